"""EMS settings with their defaults (config/settings.py may set any of them)."""

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def tick_seconds() -> float:
    """How often each running execution is ticked, and the beat period."""
    return float(_get("EMS_TICK_SECONDS", 1.0))


def tick_poll_seconds() -> float:
    """How often the beat looks for due executions: a tick runs at most this late plus the
    time the workers take to reach it."""
    return float(_get("EMS_TICK_POLL_SECONDS", 0.2))


def tick_batch() -> int:
    """Executions claimed and ticked per transaction by the beat task: larger batches share
    more queries, smaller ones commit (and send) sooner."""
    return int(_get("EMS_TICK_BATCH", 100))


def tick_helpers() -> int:
    """At most this many helper tasks a beat round enqueues when several batches are due
    (about the worker processes there are, less the round's own)."""
    return int(_get("EMS_TICK_HELPERS", 3))


def resend_after_seconds() -> float:
    """A NEW child order older than this was perhaps never sent: the sweep resends it."""
    return float(_get("EMS_RESEND_AFTER_SECONDS", 5.0))


def default_horizon_seconds() -> float:
    """An order without an end time is worked over this horizon unless the parameters say."""
    return float(_get("EMS_DEFAULT_HORIZON_SECONDS", 3600.0))


def report_claim_idle_ms() -> int:
    """A report read by a consumer that died is claimed by another after this idle time."""
    return int(_get("EMS_REPORT_CLAIM_IDLE_MS", 10_000))


def tick_report_seconds() -> float:
    """Each worker process logs how many executions it ticked, at most this often."""
    return float(_get("EMS_TICK_REPORT_SECONDS", 10.0))


def block_limit_collar_bps():
    """How far apart (bps) the limits of a block's members may be: the block works at the most
    conservative of them, so a member whose limit is further from the others' is refused."""
    from decimal import Decimal

    return Decimal(str(_get("EMS_BLOCK_LIMIT_COLLAR_BPS", "100")))


def gateway_name() -> str:
    """Which venue gateway the EMS uses: "simulator" (core.streams to the simulator) or "fix"
    (FIX sessions owned by `run_fix_venue`)."""
    return str(_get("EMS_GATEWAY", "simulator"))
