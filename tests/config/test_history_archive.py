"""The history's archive (config.archive, the scheduled config.tasks.history_archive_due):
finished orders older than the cutoff leave the live tables with everything that hangs on
them, only after their file is written and checked; open and recent orders stay; a rerun
does nothing; `loaddata` brings an archive back row for row."""

import gzip
import json
from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core import serializers
from django.core.management import call_command
from django.utils import timezone

from config import archive
from config.tasks import history_archive_due
from oms import services
from oms.models import ComplianceRule, Order, OrderEvent, OrderFill
from sor.models import RoutingDecision
from sor.services import order_recommend

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(pm, portfolio, aapl):
    """Three old finished orders (filled, cancelled, rejected), one old open order and one
    recent finished order, each with its events; the filled one with fills and a decision."""

    ComplianceRule.objects.create(kind="MAX_ORDER_NOTIONAL", portfolio=portfolio, limit=D(100000))

    def submit(quantity="10"):
        return services.order_submit(actor=pm, portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(quantity))

    filled = submit()
    order_recommend(order=filled, actor=pm)
    services.apply_fill(order_id=filled.pk, fill_id="f-1", quantity=D(4), price=D("190"))
    services.apply_fill(order_id=filled.pk, fill_id="f-2", quantity=D(6), price=D("191"))
    cancelled = submit()
    services.order_cancel(actor=pm, order_id=cancelled.pk)
    rejected = submit("100000")
    still_open = submit()
    recent = submit()
    services.order_cancel(actor=pm, order_id=recent.pk)
    long_ago = timezone.now() - timedelta(days=3000)
    Order.objects.filter(pk__in=[filled.pk, cancelled.pk, rejected.pk, still_open.pk]).update(
        created_at=long_ago, updated_at=long_ago
    )
    assert Order.objects.get(pk=rejected.pk).status == "REJECTED"
    return {"old": [filled.pk, cancelled.pk, rejected.pk], "open": still_open.pk, "recent": recent.pk}


def _snapshot(order_ids):
    rows = []
    for model in (Order, OrderEvent, OrderFill, RoutingDecision):
        field = "pk" if model is Order else "order_id"
        qs = model.objects.filter(**{f"{field}__in": order_ids}).order_by("pk")
        rows.append(json.loads(serializers.serialize("json", qs)))
    return rows


def test_old_finished_orders_leave_after_their_export_and_come_back_with_loaddata(history, tmp_path, settings):
    before = _snapshot(history["old"])
    events = OrderEvent.objects.filter(order_id__in=history["old"]).count()
    settings.HISTORY_ARCHIVE_DIR = str(tmp_path)
    settings.HISTORY_RETENTION_DAYS = 7 * 366

    assert history_archive_due() == 3

    assert not Order.objects.filter(pk__in=history["old"]).exists()
    assert not OrderEvent.objects.filter(order_id__in=history["old"]).exists()
    assert not OrderFill.objects.filter(order_id__in=history["old"]).exists()
    assert not RoutingDecision.objects.filter(order_id__in=history["old"]).exists()
    assert Order.objects.filter(pk__in=[history["open"], history["recent"]]).count() == 2
    (path,) = tmp_path.glob("*.jsonl.gz")
    manifest = json.loads(path.with_name(path.name + ".manifest.json").read_text())
    assert manifest["rows"] == {
        "oms.order": 3,
        "oms.orderevent": events,
        "oms.orderfill": 2,
        "sor.routingdecision": 1,
    }
    with gzip.open(path, "rt") as f:
        assert sum(1 for _ in f) == 3 + events + 2 + 1

    assert history_archive_due() == 0  # a rerun finds nothing more
    assert len(list(tmp_path.glob("*.jsonl.gz"))) == 1

    call_command("loaddata", str(path), verbosity=0)
    assert _snapshot(history["old"]) == before


def test_nothing_is_deleted_when_the_export_fails(history, tmp_path, monkeypatch):
    before = _snapshot(history["old"])

    def broken(rows, path):
        raise OSError("disk full")

    monkeypatch.setattr(archive, "_export", broken)
    with pytest.raises(OSError, match="disk full"):
        archive.history_archive(before=timezone.now() - timedelta(days=1000), directory=tmp_path)
    assert _snapshot(history["old"]) == before


def test_nothing_is_deleted_when_the_file_does_not_match_its_manifest(history, tmp_path, monkeypatch):
    before = _snapshot(history["old"])
    real = archive._export

    def short(rows, path):
        manifest = real(rows, path)
        manifest["rows"]["oms.orderevent"] += 1  # the file holds fewer rows than counted
        return manifest

    monkeypatch.setattr(archive, "_export", short)
    with pytest.raises(archive.ArchiveError, match="manifest"):
        archive.history_archive(before=timezone.now() - timedelta(days=1000), directory=tmp_path)
    assert _snapshot(history["old"]) == before


def test_the_audit_trail_still_refuses_deletes_outside_the_archive(history):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        OrderEvent.objects.filter(order_id=history["recent"])._raw_delete("default")
    assert OrderEvent.objects.filter(order_id=history["recent"]).exists()


def test_the_archive_is_scheduled_monthly():
    from django.conf import settings as live

    entry = live.CELERY_BEAT_SCHEDULE["history-archive-due"]
    assert entry["task"] == "config.tasks.history_archive_due"
    assert history_archive_due.name == "config.tasks.history_archive_due"
