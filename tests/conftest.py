"""Shared fixtures. In CI (CI=true) the suite must run on the real PostgreSQL and Redis:
a missing service fails the run instead of skipping tests."""

import os
from decimal import Decimal as D

import pytest
from django.conf import settings

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
def make_user(db):
    from tests.factories import UserFactory

    def make(username, role=None, password="pw"):
        return UserFactory(username=username, role=role, password=password)

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
    from tests.factories import InstrumentFactory

    return InstrumentFactory(symbol="AAPL")


@pytest.fixture
def btc(db):
    from tests.factories import InstrumentFactory

    return InstrumentFactory(
        symbol="BTC-USD",
        asset_class="CRYPTO",
        lot_size=D("0.0001"),
        reference_price=D("95000.00"),
        adv=D("25000"),
        daily_volatility=D("0.03"),
        avg_spread_bps=D("0"),
    )


@pytest.fixture
def option(db, aapl):
    from tests.factories import OptionFactory

    return OptionFactory(symbol="AAPL-270319-C-200", underlying=aapl)


@pytest.fixture
def portfolio(pm):
    from tests.factories import PortfolioFactory

    return PortfolioFactory(name="Alpha", owner=pm)


@pytest.fixture
def portfolio2(pm2):
    from tests.factories import PortfolioFactory

    return PortfolioFactory(name="Growth", owner=pm2)


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Tests with the live Celery worker run last (after pytest-django's own ordering): once
    started, the worker consumes every task enqueued, so no test that expects its tasks to
    stay queued may run after it."""
    live = [item for item in items if "worker" in getattr(item, "fixturenames", ())]
    if live:
        items[:] = [item for item in items if item not in live] + live


@pytest.fixture(scope="session")
def worker(django_db_blocker):
    """One real Celery worker thread for every test that needs one (RFQ dissemination, EMS
    ticks): a second worker started in the same process does not consume."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.control.purge()  # tasks a killed run left on the broker belong to no row of this run
    with (
        django_db_blocker.unblock(),
        start_worker(
            app,
            pool="solo",
            queues=list(settings.CELERY_QUEUES_WORKED),
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as w,
    ):
        yield w


@pytest.fixture
def aapl_chain(db, aapl):
    """AAPL options for packages: March calls 190/200/210 and puts 180/200, a June call 200."""
    from datetime import date

    from tests.factories import OptionFactory

    def opt(right, strike, expiry=date(2027, 3, 19)):
        symbol = f"AAPL-{expiry:%y%m%d}-{right}-{strike}"
        return OptionFactory(symbol=symbol, underlying=aapl, option_right=right, strike=D(strike), expiry=expiry)

    return {
        "C190": opt("C", 190),
        "C200": opt("C", 200),
        "C210": opt("C", 210),
        "P180": opt("P", 180),
        "P200": opt("P", 200),
        "C200JUN": opt("C", 200, date(2027, 6, 18)),
    }
