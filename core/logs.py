"""Logs an operator can follow: one order's story across web, worker and gateway.

Every log line carries the ids bound to the context it runs in (contextvars, through
structlog): the request id (X-Request-ID, or a new one, set by RequestIdMiddleware and passed
on to the Celery tasks the request enqueues), and the order, execution, RFQ or FIX session id
once the code handling it binds one (`bind`), or the task it runs in takes one as argument.

Production (PRODUCTION=true, or LOG_FORMAT=json) writes one JSON object per line; the
embedded default writes readable lines with the same fields after the message. The code
keeps logging with the standard library (`logging.getLogger(__name__)`): the formatter adds
the fields, so no call site changes.
"""

import inspect
import logging
import re
import uuid

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from core import metrics

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept only if it looks like one: it ends up in every log line.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# The ids a task's arguments name, bound to its log lines (by the task's keyword arguments).
TASK_IDS = ("order_id", "execution_id", "rfq_id", "child_id", "fix_session_id", "invitation_id")

_PRE_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    structlog.stdlib.ExtraAdder(),
]


def formatter(json: bool = False) -> logging.Formatter:
    """The logging.Formatter of settings.LOGGING (`"()": "core.logs.formatter"`)."""
    if json:
        render = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(default=str)]
    else:
        render = [
            structlog.dev.ConsoleRenderer(
                colors=False, pad_event_to=0, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_PRE_CHAIN, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *render]
    )


def bind(**ids) -> None:
    """Add ids to every later log line of this request or task (None values are skipped)."""
    bind_contextvars(**{k: v for k, v in ids.items() if v is not None})


def current() -> dict:
    return get_contextvars()


def request_id() -> str | None:
    return get_contextvars().get("request_id")


class RequestIdMiddleware:
    """First in the chain: each request's log lines carry its id, and the response names it;
    counts responses by status class for the error-rate alert."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        asked = request.headers.get(REQUEST_ID_HEADER, "")
        rid = asked if _REQUEST_ID.match(asked) else uuid.uuid4().hex
        clear_contextvars()
        bind_contextvars(request_id=rid)
        request.request_id = rid
        try:
            response = self.get_response(request)
        except Exception:
            metrics.HTTP_RESPONSES.labels("5xx").inc()
            clear_contextvars()
            raise
        response[REQUEST_ID_HEADER] = rid
        metrics.HTTP_RESPONSES.labels(f"{response.status_code // 100}xx").inc()
        clear_contextvars()
        return response


# --------------------------------------------------------------------------- Celery
def task_publishing(headers: dict | None = None, **_) -> None:
    """before_task_publish: the request (or task) enqueuing this task passes its id on."""
    rid = request_id()
    if rid and headers is not None:
        headers.setdefault("request_id", rid)


def task_starting(task=None, task_id=None, args=None, kwargs=None, **_) -> None:
    """task_prerun: a fresh context with the task's ids."""
    clear_contextvars()
    request = getattr(task, "request", None)
    rid = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get("request_id")
    bind(request_id=rid, task_id=task_id, task=getattr(task, "name", None))
    bind(**{k: v for k, v in _arguments(task, args, kwargs).items() if k in TASK_IDS})


def _arguments(task, args, kwargs) -> dict:
    """The task's arguments by name, however it was called (`.delay(5)` or `.delay(order_id=5)`)."""
    try:
        return inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {})).arguments
    except (TypeError, ValueError, AttributeError):
        return dict(kwargs or {})


def task_ended(task=None, state=None, **_) -> None:
    """task_postrun: count the task by outcome and drop its context."""
    metrics.task_finished(getattr(task, "name", "?"), (state or "UNKNOWN").lower())
    clear_contextvars()
