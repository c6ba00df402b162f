"""Retention and archive of the history: finished orders older than the retention period
leave the live database together with every row that hangs on them (audit events, fills,
routing decisions, executions with their child orders, events and venue reports, RFQs,
TCA), written first to a compressed file that `manage.py loaddata` reads back.

Why not declarative partitions: every big table is a Django model with foreign keys into
it (an event's order, an execution's decision, a child's report), and a partitioned
PostgreSQL table cannot be the target of a foreign key unless the key includes the
partition column, which would mean composite keys across the codebase. Instead the reads
stay flat with time-leading indexes (the lists page by (created_at, id), core.api), and
the tables stay bounded by this archive, which does in rows what detaching old partitions
would do in files.

Never a delete without an export: each batch is written to `<directory>/<name>.jsonl.gz`
(Django's JSON-lines serialisation) with a manifest of its row counts and SHA-256, the
file is read back and checked against the manifest, and only then are the rows deleted,
in one transaction, dependents first. A failure anywhere before the delete leaves the
database as it was. Orders a row kept for another purpose depends on (an impact refit's
evidence) stay. The archive runs as the database owner: the application role holds no
DELETE on the audit tables, and their append-only triggers let a DELETE through only in
a transaction that says it is archiving (oms migration 0010)."""

import gzip
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path

from django.apps import apps
from django.core import serializers
from django.db import connection, transaction

from accounts.database import audit_erasable
from core.vocabulary import OPEN_ORDER_STATUSES
from oms.models import Order

# Rows kept for their own purpose: an order they depend on is not archived.
KEEP = ("tca.ImpactRefit",)


@dataclass
class ArchiveResult:
    files: list[Path] = field(default_factory=list)
    orders: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    skipped_orders: int = 0


def _dependents(model) -> list[tuple]:
    """(model, field name) of every foreign key (or one-to-one) into `model`."""
    out = []
    for rel in model._meta.related_objects:
        if rel.many_to_many or not rel.field.concrete:
            continue
        out.append((rel.related_model, rel.field.name))
    return out


def _closure(order_ids: list[int]) -> dict:
    """Every row that depends, directly or not, on these orders: {model: set of pks}."""
    rows = {Order: set(order_ids)}
    frontier = [(Order, set(order_ids))]
    while frontier:
        model, pks = frontier.pop()
        for child, fk in _dependents(model):
            found = set(child._default_manager.filter(**{f"{fk}__in": pks}).values_list("pk", flat=True))
            new = found - rows.get(child, set())
            if new:
                rows.setdefault(child, set()).update(new)
                frontier.append((child, new))
    return rows


def _delete_order(rows: dict) -> list:
    """The models in an order that deletes no row another still points at."""
    graph = TopologicalSorter()
    for model in rows:
        graph.add(model)
        for f in model._meta.concrete_fields:
            target = f.related_model if f.is_relation else None
            if target in rows and target is not model:
                graph.add(target, model)  # `model` goes first: it points at `target`
    return list(graph.static_order())


def _export(rows: dict, path: Path) -> dict:
    counts = {}
    tmp = path.with_suffix(path.suffix + ".part")
    with gzip.open(tmp, "wt", encoding="utf-8") as out:
        for model in sorted(rows, key=lambda m: m._meta.label):
            qs = model._default_manager.filter(pk__in=rows[model]).order_by("pk")
            for obj in qs.iterator(chunk_size=2000):
                out.write(serializers.serialize("jsonl", [obj]))
            counts[model._meta.label_lower] = len(rows[model])
    tmp.rename(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {"file": path.name, "sha256": digest, "rows": counts}
    path.with_name(path.name + ".manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _verify(path: Path, manifest: dict) -> None:
    """The file holds exactly the rows the manifest counts, or nothing is deleted."""
    if hashlib.sha256(path.read_bytes()).hexdigest() != manifest["sha256"]:
        raise ArchiveError(f"{path}: checksum differs from its manifest")
    seen: dict[str, int] = {}
    with gzip.open(path, "rt", encoding="utf-8") as src:
        for line in src:
            label = json.loads(line)["model"]
            seen[label] = seen.get(label, 0) + 1
    if seen != manifest["rows"]:
        raise ArchiveError(f"{path}: holds {seen}, the manifest says {manifest['rows']}")


class ArchiveError(Exception):
    pass


def _delete(rows: dict) -> None:
    with transaction.atomic(), audit_erasable():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL smart_trading.archive = 'on'")
        for model in _delete_order(rows):
            # Raw deletes: the export above is the record, and the ORM's collector would
            # refuse the PROTECT keys this order already satisfies.
            ids = list(rows[model])
            for start in range(0, len(ids), 5000):
                model._base_manager.filter(pk__in=ids[start : start + 5000])._raw_delete(connection.alias)


def history_archive(*, before: datetime, directory: Path, batch: int = 1000, max_batches: int | None = None):
    """Archive the orders finished before `before` (not open, last changed before it), in
    batches of `batch` orders, oldest first. Idempotent: a second run finds nothing to do."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    result = ArchiveResult()
    keep = [apps.get_model(label) for label in KEEP]
    skip: set[int] = set()
    done = 0
    while max_batches is None or done < max_batches:
        ids = list(
            Order.objects.filter(updated_at__lt=before)
            .exclude(status__in=OPEN_ORDER_STATUSES)
            .exclude(pk__in=skip)
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            break
        rows = _closure(ids)
        if any(model in rows for model in keep):
            # Find the orders the kept rows depend on and leave them; archive the rest.
            held = {oid for oid in ids if any(m in _closure([oid]) for m in keep)}
            skip |= held
            result.skipped_orders += len(held)
            ids = [oid for oid in ids if oid not in held]
            if not ids:
                continue
            rows = _closure(ids)
        name = f"history-before-{before:%Y%m%dT%H%M%S}-{ids[0]}-{ids[-1]}.jsonl.gz"
        path = directory / name
        manifest = _export(rows, path)
        _verify(path, manifest)
        _delete(rows)
        result.files.append(path)
        result.orders += len(ids)
        for label, n in manifest["rows"].items():
            result.rows[label] = result.rows.get(label, 0) + n
        done += 1
    return result
