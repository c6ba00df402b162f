"""Celery edges of the EMS: ids in, one service each; acks_late, so a worker killed mid-task
has the task redelivered (after the broker's visibility timeout, CELERY_VISIBILITY_TIMEOUT;
the next beat round carries the executions on long before), and every service is idempotent.

ONE beat entry (`executions_tick_due`, every settings.EMS_TICK_POLL_SECONDS, a fraction of
the tick period EMS_TICK_SECONDS so a tick runs close to when it is due) applies the venue
reports waiting on the stream, resends unsent child orders, then claims the due executions
in batches (SELECT ... FOR UPDATE SKIP LOCKED, by next_tick_at) and ticks each batch in one
transaction, so any number of workers share the work and none ticks the same execution twice
at once."""

import logging
import math
import os
import socket
import time
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from ems import conf, services
from ems.gateways import gateway

log = logging.getLogger(__name__)

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True, "queue": "default"}


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class TickMeter:
    """Per worker process: how many executions it ticked, logged at most every
    EMS_TICK_REPORT_SECONDS (throughput per worker, read by operators and bench/ems.py)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.since = clock()
        self.ticked = 0

    def add(self, ticked: int) -> None:
        self.ticked += ticked
        elapsed = self.clock() - self.since
        if elapsed >= conf.tick_report_seconds():
            log.info(
                "ticked %d executions in %.1f s (%.1f/s) in %s",
                self.ticked,
                elapsed,
                self.ticked / elapsed,
                consumer_name(),
            )
            self.since, self.ticked = self.clock(), 0


meter = TickMeter()


# A round stops claiming batches after this long, well inside its soft time limit (a batch cut
# by the limit would roll back): whatever is still due, the next round takes.
ROUND_SECONDS = 20.0
# Reports applied per round, so a burst of them does not starve the ticks (the rest wait for
# the next round, a fraction of a second later), and a consumer finishes what it read long
# before EMS_REPORT_CLAIM_IDLE_MS lets another claim it.
REPORTS_PER_ROUND = 200


@shared_task(name="ems.tasks.executions_tick_due", time_limit=60, soft_time_limit=50, **TASK_OPTIONS)
def executions_tick_due() -> int:
    """The beat's round (every EMS_TICK_POLL_SECONDS): tick in batches every execution due
    when the round began, then apply waiting reports and resend what was never sent. When
    more than one batch is due, helpers (`executions_tick_help`, at most EMS_TICK_HELPERS)
    are enqueued first, so idle worker processes take the other batches at once beside this
    one (SKIP LOCKED keeps them apart) instead of after this one's first. Executions falling
    due during the round wait for the next one: a round always ends, however far behind the
    workers are.

    Ticks first: they are what runs on a clock. Reports applied a round later change nothing
    a tick could get wrong (an unconfirmed fill still counts as open quantity of its child),
    while a burst of reports applied first made every tick of the round that much late."""
    due_by = timezone.now()
    batches = math.ceil(services.executions_due_count(due_by=due_by) / conf.tick_batch())
    for _ in range(min(batches - 1, conf.tick_helpers())):
        executions_tick_help.apply_async(args=[due_by.isoformat()], expires=conf.tick_poll_seconds() * 5)
    ticked = _tick_batches(due_by)
    reports_apply_pending(limit=REPORTS_PER_ROUND)
    services.children_resend()
    return ticked


@shared_task(name="ems.tasks.executions_tick_help", time_limit=60, soft_time_limit=50, **TASK_OPTIONS)
def executions_tick_help(due_by: str) -> int:
    """A round's helper: tick batches of the executions due by `due_by`, nothing else."""
    return _tick_batches(datetime.fromisoformat(due_by))


def _tick_batches(due_by: datetime) -> int:
    stop_at = time.monotonic() + ROUND_SECONDS
    ticked = 0
    while time.monotonic() < stop_at:
        try:
            outcomes = services.executions_tick_batch(due_by=due_by)
        except Exception:
            # One execution's failure rolled its whole batch back: tick that batch one by
            # one so the others go on (executions_tick_each isolates and delays the culprit).
            log.exception("a batch of ticks failed: ticking it one execution at a time")
            outcomes = services.executions_tick_each(due_by=due_by)
        ticked += len(outcomes)
        meter.add(len(outcomes))
        if len(outcomes) < conf.tick_batch():
            break
    return ticked


@shared_task(name="ems.tasks.execution_tick", time_limit=30, soft_time_limit=25, **TASK_OPTIONS)
def execution_tick_task(execution_id: int) -> str:
    """The first tick after a start or a resume, at once; when the beat's batch got there
    first, nothing (a burst of starts would otherwise tick each execution twice, alone)."""
    return services.execution_tick(execution_id=execution_id, if_due=True).status


@shared_task(name="ems.tasks.reports_apply", time_limit=30, soft_time_limit=25, **TASK_OPTIONS)
def reports_apply_pending(limit: int | None = None) -> int:
    """Apply the venue reports waiting on the report stream, all of them or about `limit`
    (each acknowledged after it was applied; a report left by a dead worker is claimed after
    EMS_REPORT_CLAIM_IDLE_MS)."""
    port = gateway()
    total = 0
    while limit is None or total < limit:
        count = 500 if limit is None else min(500, limit - total)
        # One transaction per read (services.reports_apply); acknowledged once it committed.
        n = port.consume_many(lambda raws: services.reports_apply(raws=raws), consumer=consumer_name(), count=count)
        total += n
        if n == 0:
            break
    return total
