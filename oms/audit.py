"""The audit trail across all orders: search and CSV export (the console's Audit trail page).

CSV columns, in this order (docs/console.md says the same):

    event_id        the audit row's id (increasing in the order rows were written)
    at_utc          when the event was written, ISO 8601 in UTC (suffix Z)
    order_id        the parent order
    client_order_id the client's own id for the order, if it gave one
    portfolio_id    the order's portfolio (id)
    portfolio       the portfolio's name
    owner           the portfolio manager who owns the portfolio
    instrument      the instrument's symbol
    side            BUY or SELL
    order_quantity  the order's quantity now (amendments change it; AMEND rows carry old and new)
    event           SUBMIT, ACCEPT, REJECT, WORK, PARTIAL_FILL, FILL, CANCEL_REQUEST, CANCEL,
                    CANCEL_REJECT, EXPIRE, AMEND, AMEND_REJECT
    from_status     the order's status before the event (blank for SUBMIT)
    to_status       the order's status after the event
    actor           the user who caused it (blank for the system: the EMS, a venue, a timer)
    reason          why, as written with the event
    payload         the event's details as JSON (a fill's id, quantity, price, venue; an amendment's terms)

Exporting is itself audited: each export writes a ConsoleChange (action EXPORT) with the
filters and the number of rows."""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import QuerySet

from core.audit import console_change_record
from core.vocabulary import ConsoleAction
from oms.models import OrderEvent

COLUMNS = (
    "event_id",
    "at_utc",
    "order_id",
    "client_order_id",
    "portfolio_id",
    "portfolio",
    "owner",
    "instrument",
    "side",
    "order_quantity",
    "event",
    "from_status",
    "to_status",
    "actor",
    "reason",
    "payload",
)


@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    portfolio_id: int | None = None
    instrument_id: int | None = None
    event: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive

    def described(self) -> dict[str, str]:
        return {k: (v.isoformat() if isinstance(v, datetime) else str(v)) for k, v in vars(self).items() if v}


def audit_events(filters: AuditFilters) -> QuerySet[OrderEvent]:
    qs = OrderEvent.objects.select_related("order__portfolio__owner", "order__instrument", "actor")
    if filters.actor_id:
        qs = qs.filter(actor_id=filters.actor_id)
    if filters.portfolio_id:
        qs = qs.filter(order__portfolio_id=filters.portfolio_id)
    if filters.instrument_id:
        qs = qs.filter(order__instrument_id=filters.instrument_id)
    if filters.event:
        qs = qs.filter(event=filters.event)
    if filters.start:
        qs = qs.filter(at__gte=filters.start)
    if filters.end:
        qs = qs.filter(at__lt=filters.end)
    return qs.order_by("id")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def audit_row(e: OrderEvent) -> list[str]:
    o = e.order
    return [
        str(e.pk),
        _utc(e.at),
        str(o.pk),
        o.client_order_id or "",
        str(o.portfolio_id),
        o.portfolio.name,
        o.portfolio.owner.get_username(),
        o.instrument.symbol,
        o.side,
        f"{o.quantity.normalize():f}",
        e.event,
        e.from_status,
        e.to_status,
        e.actor.get_username() if e.actor else "",
        e.reason,
        json.dumps(e.payload, sort_keys=True, separators=(",", ":")),
    ]


class _Echo:
    def write(self, value):
        return value


def audit_export(*, actor, filters: AuditFilters) -> tuple[int, Iterator[str]]:
    """Record the export (who, when, which filters, how many rows), then the CSV lines."""
    events = audit_events(filters)
    rows = events.count()
    described = filters.described()
    console_change_record(
        actor=actor,
        action=ConsoleAction.EXPORT,
        changes={"filters": described, "rows": rows},
        summary=f"exported {rows} audit rows"
        + (": " + ", ".join(f"{k}={v}" for k, v in described.items()) if described else " (all orders)"),
    )
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(audit_row(event))

    return rows, lines()
