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
import os
import socket
import time

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
    """The beat's round (every EMS_TICK_POLL_SECONDS): apply waiting reports, resend what was
    never sent, then tick in batches every execution due when the round began. A round that
    finds a full batch enqueues one more round first, so an idle worker takes the next
    batches beside this one (SKIP LOCKED keeps them apart). Executions falling due during
    the round wait for the next one: a round always ends, however far behind the workers are."""
    reports_apply_pending(limit=REPORTS_PER_ROUND)
    services.children_resend()
    due_by = timezone.now()
    stop_at = time.monotonic() + ROUND_SECONDS
    ticked = 0
    helped = False
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
        if not helped:
            executions_tick_due.apply_async(expires=conf.tick_poll_seconds() * 5)
            helped = True
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
