# ruff: noqa: F811  (pytest fixtures imported from tests.ems.fixtures are parameters here)
"""The batched tick (ems.services.executions_tick_batch) that the beat runs: which executions
a batch claims, the schedule it keeps, the lag it records, and the children it writes."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.locks import lock_one
from ems import services
from ems.models import ChildOrder, ChildOrderEvent, Execution
from tests.conftest import postgres_only
from tests.ems.fixtures import Market, demo, market, memory_streams, submit, users  # noqa: F401

pytestmark = pytest.mark.django_db


def start(strategy="DIRECT", quantity="300", **kwargs):
    _, trader = users()
    order = submit(quantity=quantity)
    return services.execution_start(actor=trader, order_id=order.pk, strategy=strategy, **kwargs)


def due_at(execution, moment):
    Execution.objects.filter(pk=execution.pk).update(next_tick_at=moment)


def test_a_batch_ticks_each_due_execution_once_and_records_its_lag(
    market, django_capture_on_commit_callbacks, settings
):
    settings.EMS_TICK_SECONDS = 1.0
    now = timezone.now()
    first, second, later = start(), start(), start()
    due_at(first, now - timedelta(milliseconds=300))
    due_at(second, now - timedelta(milliseconds=100))
    due_at(later, now + timedelta(milliseconds=500))

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = services.executions_tick_batch(now=now)

    assert [o.execution_id for o in outcomes] == [first.pk, second.pk]  # by due time; `later` is not due
    rows = {e.pk: e for e in Execution.objects.all()}
    for execution, lag_ms in ((first, 300), (second, 100)):
        row = rows[execution.pk]
        assert row.tick_count == 1
        assert row.last_tick_at == now
        assert row.last_tick_at - row.last_tick_due_at == timedelta(milliseconds=lag_ms)
        # Its own grid: due + one period, not now + one period.
        assert row.next_tick_at == row.last_tick_due_at + timedelta(seconds=1)
    assert rows[later.pk].tick_count == 0
    assert rows[later.pk].next_tick_at == now + timedelta(milliseconds=500)
    # DIRECT sends its children at once: written in the batch, sent after its commit.
    for execution in (first, second):
        children = list(ChildOrder.objects.filter(execution=execution).order_by("seq"))
        assert children, "DIRECT sends on its first tick"
        assert [c.client_order_id for c in children] == [f"{execution.pk}-{n}" for n in range(1, len(children) + 1)]
        assert {c.status for c in children} == {"SENT"}
        assert rows[execution.pk].child_seq == len(children)
        assert ChildOrderEvent.objects.filter(child__in=children, event="").count() == len(children)
    assert not ChildOrder.objects.filter(execution=later).exists()


def test_a_second_batch_at_the_same_time_finds_nothing_due_and_sends_no_duplicate(
    market, django_capture_on_commit_callbacks
):
    now = timezone.now()
    execution = start()
    due_at(execution, now)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(services.executions_tick_batch(now=now)) == 1
        assert services.executions_tick_batch(now=now) == []
    sent = ChildOrder.objects.filter(execution=execution).count()
    # Ticked again a period later (the market moved on): nothing is sent twice.
    market.advance(1)
    with django_capture_on_commit_callbacks(execute=True):
        services.executions_tick_batch(now=now + timedelta(seconds=1))
    assert ChildOrder.objects.filter(execution=execution).count() == sent
    assert Execution.objects.get(pk=execution.pk).tick_count == 2


def test_a_batch_takes_at_most_its_limit_the_longest_due_first(market, django_capture_on_commit_callbacks):
    now = timezone.now()
    executions = [start(strategy="TWAP", parameters={"horizon_seconds": 3600}) for _ in range(3)]
    for n, execution in enumerate(executions):
        due_at(execution, now - timedelta(seconds=3 - n))
    with django_capture_on_commit_callbacks(execute=True):
        first = services.executions_tick_batch(now=now, limit=2)
        rest = services.executions_tick_batch(now=now, limit=2)
    assert [o.execution_id for o in first] == [executions[0].pk, executions[1].pk]
    assert [o.execution_id for o in rest] == [executions[2].pk]


def test_a_tick_late_by_several_periods_skips_the_missed_ones(market, django_capture_on_commit_callbacks, settings):
    settings.EMS_TICK_SECONDS = 1.0
    now = timezone.now()
    execution = start(strategy="TWAP", parameters={"horizon_seconds": 3600})
    due = now - timedelta(milliseconds=3500)
    due_at(execution, due)
    with django_capture_on_commit_callbacks(execute=True):
        services.executions_tick_batch(now=now)
    row = Execution.objects.get(pk=execution.pk)
    assert row.last_tick_at - row.last_tick_due_at == timedelta(milliseconds=3500)
    assert row.next_tick_at == due + timedelta(seconds=4)  # the next point of its grid after now
    with django_capture_on_commit_callbacks(execute=True):
        assert services.executions_tick_batch(now=now) == []  # not due again at once


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_execution_another_transaction_holds_is_skipped_not_waited_for(demo, memory_streams):
    Market()
    now = timezone.now()
    held, free = start(), start()
    due_at(held, now)
    due_at(free, now)
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                lock_one(Execution, held.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(30)
        outcomes = services.executions_tick_batch(now=now)
    finally:
        release.set()
        holder.join(30)
    assert [o.execution_id for o in outcomes] == [free.pk]
    assert Execution.objects.get(pk=held.pk).tick_count == 0
    assert [o.execution_id for o in services.executions_tick_batch(now=now)] == [held.pk]


def test_an_execution_whose_tick_fails_does_not_stop_the_others(market, django_capture_on_commit_callbacks):
    from ems.tasks import executions_tick_due

    now = timezone.now()
    broken, healthy = (start(strategy="TWAP", parameters={"horizon_seconds": 3600}) for _ in range(2))
    # A parameter the algorithm cannot read: its tick raises, whatever the batch around it.
    Execution.objects.filter(pk=broken.pk).update(parameters={"slices": "many"})
    due_at(broken, now - timedelta(seconds=2))  # first in line
    due_at(healthy, now - timedelta(seconds=1))
    with pytest.raises(ValueError):
        services.executions_tick_batch(now=now)
    assert Execution.objects.get(pk=healthy.pk).tick_count == 0  # the whole batch rolled back

    with django_capture_on_commit_callbacks(execute=True):
        executions_tick_due.run()
    rows = {e.pk: e for e in Execution.objects.all()}
    assert rows[healthy.pk].tick_count == 1
    assert rows[broken.pk].tick_count == 0
    assert rows[broken.pk].next_tick_at > timezone.now()  # no longer heads every batch


def test_a_batch_saves_the_documents_of_the_ticks_that_changed_them_and_keeps_the_others(
    market, django_capture_on_commit_callbacks
):
    now = timezone.now()
    sampled, quiet = (start(strategy="TWAP", parameters={"horizon_seconds": 3600}) for _ in range(2))
    for execution in (sampled, quiet):
        due_at(execution, now)
    with django_capture_on_commit_callbacks(execute=True):
        services.executions_tick_batch(now=now)
    first = {e.pk: e for e in Execution.objects.all()}
    assert len(first[sampled.pk].market_path) == 1 and first[sampled.pk].memory.get("at_start")

    # A tick later, `sampled`, whose last point of its price path is older than the spacing
    # (3600/500 s), is due the next one; `quiet`, whose last point is a second old, is not.
    later = now + timedelta(seconds=1)
    recent = (later - first[quiet.pk].start_at).total_seconds() - 1.0
    Execution.objects.filter(pk=sampled.pk).update(market_path=[[-10.0, "1.00"]])
    Execution.objects.filter(pk=quiet.pk).update(market_path=[[recent, "1.00"]])
    for execution in (sampled, quiet):
        due_at(execution, later)
    with django_capture_on_commit_callbacks(execute=True):
        services.executions_tick_batch(now=later)

    rows = {e.pk: e for e in Execution.objects.all()}
    assert rows[sampled.pk].tick_count == rows[quiet.pk].tick_count == 2
    assert len(rows[sampled.pk].market_path) == 2 and rows[sampled.pk].market_path[0] == [-10.0, "1.00"]
    assert rows[quiet.pk].market_path == [[recent, "1.00"]]  # kept as it was
    assert rows[quiet.pk].memory == first[quiet.pk].memory
    assert rows[quiet.pk].last_tick_at == later


def test_a_rounds_helper_ticks_what_was_due_when_the_round_began_and_nothing_later(
    market, django_capture_on_commit_callbacks
):
    from ems.tasks import executions_tick_help

    now = timezone.now()
    due, later = start(), start()
    due_at(due, now - timedelta(milliseconds=100))
    due_at(later, now + timedelta(milliseconds=1))  # fell due after the round began
    with django_capture_on_commit_callbacks(execute=True):
        assert executions_tick_help.run(now.isoformat()) == 1
    rows = {e.pk: e for e in Execution.objects.all()}
    assert rows[due.pk].tick_count == 1 and rows[later.pk].tick_count == 0
