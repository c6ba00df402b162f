"""The scheduled analytics refresh, run by the suite's real Celery worker (tests/conftest.py)
on the configured broker (Redis in CI, the in-memory transport in the embedded mode)."""

import time
from decimal import Decimal as D

import pytest

from config.celery import app
from marketdata.models import Instrument
from marketdata.tasks import analytics_refresh_all
from tests.marketdata.test_analytics import sessions_for

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the worker did not get there in time")
        time.sleep(0.05)


def test_beat_schedules_the_task_the_worker_knows():
    from django.conf import settings

    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "marketdata.tasks.analytics_refresh_all" in names
    assert analytics_refresh_all.name in app.tasks
    assert analytics_refresh_all.queue == "default" and analytics_refresh_all.time_limit


def test_worker_refreshes_every_active_instrument(worker, aapl, btc, option):
    sessions_for(aapl)
    sessions_for(btc, volumes=["2", "2", "2", "2", "3"])
    Instrument.objects.filter(pk=option.pk).update(is_active=False)
    sessions_for(option)
    analytics_refresh_all.delay_on_commit()  # no transaction open: sent at once
    wait_for(lambda: not Instrument.objects.filter(is_active=True, analytics_updated_at__isnull=True).exists())
    aapl.refresh_from_db(), btc.refresh_from_db(), option.refresh_from_db()
    assert (aapl.adv, aapl.avg_spread_bps, aapl.volume_profile) == (
        D(1200),
        D("1.750"),
        ["0.450000", "0.200000", "0.350000"],
    )
    assert btc.adv == D("2.2")
    # Inactive instruments are left alone.
    assert (option.adv, option.analytics_updated_at) == (D(8000), None)


def test_a_second_run_writes_the_same_figures(worker, aapl):
    sessions_for(aapl)
    fields = ("adv", "daily_volatility", "avg_spread_bps", "volume_profile")
    analytics_refresh_all.delay()
    wait_for(lambda: Instrument.objects.get(pk=aapl.pk).analytics_updated_at is not None)
    first = Instrument.objects.get(pk=aapl.pk)
    analytics_refresh_all.delay()
    wait_for(lambda: Instrument.objects.get(pk=aapl.pk).analytics_updated_at > first.analytics_updated_at)
    second = Instrument.objects.get(pk=aapl.pk)
    assert [getattr(second, f) for f in fields] == [getattr(first, f) for f in fields]
