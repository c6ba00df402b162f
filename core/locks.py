"""Row locks, taken here and nowhere else, always in one order so that two transactions can
never wait on each other:

1. across aggregates, in the order of LOCK_ORDER (an execution or an RFQ before the parent
   order it fills, a parent order before its child orders, a position before its portfolio);
2. within one model, in primary-key order.

A task that locks a parent order and then its child orders therefore cannot deadlock with a
fill that locks the same parent order first, nor with another task on the same rows."""

from collections.abc import Iterable

from django.db import models

from core.errors import NotFound

# Model labels from the first locked to the last; a transaction that needs rows of several
# of them takes them top to bottom.
LOCK_ORDER = (
    "ems.Execution",
    "ems.Block",  # a block's members and allocations are guarded by its execution and its row
    "rfq.Rfq",  # an RFQ's quotes and its fills (apply_fill) come after it
    "rfq.Quote",
    "oms.Order",
    "ems.ChildOrder",
    "oms.Position",
    "oms.Portfolio",
    "marketdata.Instrument",
    "rfq.Counterparty",  # curation: never held with any of the above
)


def lock_one(
    model: type[models.Model], pk: int, *, what: str | None = None, related: tuple[str, ...] = ()
) -> models.Model:
    """The row `pk`, locked until the transaction ends, or NotFound. `related`: rows joined
    in the same query (select_related), read, not locked. Only that row is locked, always: a
    default ordering over a relation (Position's by instrument symbol) joins another table
    too, and a bare FOR UPDATE would lock the joined row, out of LOCK_ORDER."""
    rows = model._default_manager.filter(pk=pk)
    if related:
        rows = rows.select_related(*related)
    row = rows.select_for_update(of=("self",)).first()
    if row is None:
        raise NotFound(f"{what or model._meta.verbose_name} {pk} does not exist")
    return row


def lock_many(model: type[models.Model], pks: Iterable[int]) -> list[models.Model]:
    """The rows with these primary keys, locked in primary-key order (missing ones skipped)."""
    return lock_all(model._default_manager.filter(pk__in=set(pks)))


def lock_all(rows: models.QuerySet) -> list[models.Model]:
    """Every row of `rows`, locked in primary-key order; joined rows (select_related) are
    read, not locked."""
    return list(rows.select_for_update(of=("self",)).order_by("pk"))
