"""Shared fixtures. In CI (CI=true) the suite must run on the real PostgreSQL and Redis:
a missing service fails the run instead of skipping tests."""
import os
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config):
    # Close connections after each request so server threads in browser tests hold none
    # when the test database is dropped.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    if IN_CI:
        engine = settings.DATABASES["default"]["ENGINE"]
        assert engine == "django.db.backends.postgresql", f"CI must test on PostgreSQL, got {engine}"
        assert settings.REDIS_URL, "CI must test on Redis: REDIS_URL is not set"


def requires(condition: bool, reason: str):
    """Skip outside CI when a real service is absent; in CI the same test runs (and fails if
    the service is missing)."""
    return pytest.mark.skipif(not IN_CI and not condition, reason=reason)


ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
ON_REDIS = bool(settings.REDIS_URL)
postgres_only = requires(ON_POSTGRES, "needs PostgreSQL (DATABASE_URL); runs in CI")
redis_only = requires(ON_REDIS, "needs Redis (REDIS_URL); runs in CI")


@pytest.fixture(autouse=True)
def _clean_cache():
    """Market snapshots live in the cache: no test sees another's."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def roles_groups(db):
    from accounts import roles

    return {name: Group.objects.get_or_create(name=name)[0] for name in roles.ROLES}


@pytest.fixture
def make_user(db, roles_groups):
    from django.contrib.auth.models import User

    def make(username, role=None, password="pw"):
        user = User.objects.create_user(username=username, password=password)
        if role:
            user.groups.add(roles_groups[role])
        return user

    return make


@pytest.fixture
def pm(make_user):
    return make_user("pm", "PM")


@pytest.fixture
def pm2(make_user):
    return make_user("pm2", "PM")


@pytest.fixture
def trader(make_user):
    return make_user("trader", "Trader")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", "Admin")


@pytest.fixture
def aapl(db):
    from marketdata.models import Instrument

    return Instrument.objects.create(
        symbol="AAPL", asset_class="EQUITY", tick_size=D("0.01"), lot_size=D("1"), reference_price=D("190.00"),
        adv=D("55000000"), daily_volatility=D("0.016"), avg_spread_bps=D("1.2"))


@pytest.fixture
def btc(db):
    from marketdata.models import Instrument

    return Instrument.objects.create(
        symbol="BTC-USD", asset_class="CRYPTO", tick_size=D("0.01"), lot_size=D("0.0001"),
        reference_price=D("95000.00"), adv=D("25000"), daily_volatility=D("0.03"))


@pytest.fixture
def option(db, aapl):
    from datetime import date

    from marketdata.models import Instrument

    return Instrument.objects.create(
        symbol="AAPL-270319-C-200", asset_class="OPTION", underlying=aapl, option_right="C", strike=D("200"),
        expiry=date(2027, 3, 19), tick_size=D("0.05"), lot_size=D("1"), reference_price=D("6.85"),
        multiplier=D("100"), adv=D("8000"), daily_volatility=D("0.045"), avg_spread_bps=D("150"))


@pytest.fixture
def portfolio(pm):
    from oms.models import Portfolio

    return Portfolio.objects.create(name="Alpha", owner=pm, cash=D("1000000000"))


@pytest.fixture
def portfolio2(pm2):
    from oms.models import Portfolio

    return Portfolio.objects.create(name="Growth", owner=pm2, cash=D("1000000000"))


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
