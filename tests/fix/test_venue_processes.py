"""The EMS trading with the simulator over a real FIX session, in the production layout: web,
market data (the one simulator), beat and a Celery worker with EMS_GATEWAY=fix, the EMS's FIX
initiator (`run_fix_venue`) and the simulator's FIX acceptor front (`run_fix_simulator`), each
a subprocess on the test database and a Redis database of their own. Then the front is killed
and restarted mid-way: the session reconnects, the resend changes nothing, and the books
agree with the venue's own record."""

from __future__ import annotations

import io
import os
from collections import Counter
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from ems.models import ExecutionReport
from oms.models import Order, OrderFill
from tests.conftest import postgres_only, redis_only
from tests.ems.test_processes import (
    PASSWORD,
    TICK_SECONDS,
    Processes,
    Stack,
    all_terminal,
    celery,
    free_port,
    manage,
    subprocess_redis_url,
    wait_for,
)
from tests.fix.conftest import fix_port

pytestmark = [postgres_only, redis_only, pytest.mark.django_db(transaction=True)]

DEADLINE = 90.0


@pytest.fixture
def fix_stack(transactional_db, tmp_path):
    import redis

    call_command("seed_demo", without_history=True, stdout=io.StringIO())
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.filter(username__in=["pm", "trader"]):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    url = subprocess_redis_url()
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    db = connection.settings_dict
    venue_port = fix_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": url,
        "REDIS_CACHE_URL": url,
        "STREAMS_URL": url,
        "MARKETDATA_EMBEDDED": "false",
        "EMS_GATEWAY": "fix",
        "EMS_TICK_SECONDS": str(TICK_SECONDS),
        "EMS_RESEND_AFTER_SECONDS": "1",
        "EMS_REPORT_CLAIM_IDLE_MS": "1000",
        "ANALYTICS_REFRESH_SECONDS": "3600",
        "FIX_VENUE_PORT": str(venue_port),
        "FIX_STORE_DIR": str(tmp_path / "fix"),
        "FIX_ENABLED": "false",
        "DB_POOL_MAX_SIZE": "2",
        "DB_POOL_MIN_SIZE": "1",
        "WEB_WORKERS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    assert url != settings.REDIS_URL
    processes = Processes(tmp_path, env)
    port = free_port()
    stack = Stack(processes, port, client)
    try:
        processes.start("web", manage("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"))
        processes.start("marketdata", manage("run_marketdata"))
        processes.start("fix-simulator", manage("run_fix_simulator"))
        processes.start("fix-venue", manage("run_fix_venue"))
        processes.start("beat", celery("beat", "--loglevel", "WARNING", "--schedule", str(tmp_path / "beat-schedule")))

        def web_up():
            processes.alive("web")
            try:
                return stack.request("GET", "/healthz")[0] in (200, 503)
            except OSError:
                return False

        wait_for(web_up, 60, "the web server")
        stack.login("pm", "trader")

        def books_fresh():
            processes.alive("marketdata")
            code, body = stack.request("GET", "/api/marketdata/AAPL/", user="pm")
            return code == 200 and body.get("fresh") and body.get("mid")

        wait_for(books_fresh, 60, "fresh books from the market-data process")
        wait_for(lambda: session_logged_on(tmp_path), 60, "the FIX venue session to log on")
        yield stack
    finally:
        processes.stop_all()
        client.close()
        print(processes.report())


def session_logged_on(tmp_path) -> bool:
    events = list((tmp_path / "fix" / "venue" / "log").glob("*SIMVENUE.event.current.log"))
    return bool(events) and "Received logon" in events[0].read_text()


def test_an_execution_trades_with_the_simulator_over_fix(fix_stack):
    stack = fix_stack
    stack.start_worker()
    first = stack.order("AAPL", "300", urgency="HIGH")
    started = stack.start_execution(first["id"], strategy="DIRECT")
    wait_for(lambda: all_terminal([started["id"]]), DEADLINE, "the execution over FIX to finish")
    order = Order.objects.get(pk=first["id"])
    assert (order.status, order.filled_quantity) == ("FILLED", D("300"))

    # The venue's own record (its report stream) against what the EMS stored from FIX.
    venue = stack.venue_reports()
    venue_fills = {r["exec_id"]: D(str(r["quantity"])) for r in venue if r["type"] == "FILLED"}
    stored = Counter(ExecutionReport.objects.values_list("venue_execution_id", flat=True))
    assert set(venue_fills) <= set(stored)
    assert all(n == 1 for n in stored.values())
    assert sum(venue_fills.values()) == D("300")
    assert sum(f.quantity for f in OrderFill.objects.filter(order=order, refused_reason="")) == D("300")
    # Every one of them crossed the FIX session: the EMS read them from the FIX report stream.
    assert len(stack.redis.xrange("venue.fix.reports")) >= len(venue)

    # The simulator's front dies and comes back: the session reconnects and the EMS trades on,
    # nothing applied twice (the resend repeats ExecIDs the EMS already holds).
    stack.processes.kill("fix-simulator")
    stack.processes.start("fix-simulator", manage("run_fix_simulator"))
    second = stack.order("MSFT", "200", urgency="HIGH")
    started = stack.start_execution(second["id"], strategy="DIRECT")
    wait_for(lambda: all_terminal([started["id"]]), DEADLINE, "the execution after the reconnect to finish")
    order = Order.objects.get(pk=second["id"])
    assert (order.status, order.filled_quantity) == ("FILLED", D("200"))
    stored = Counter(ExecutionReport.objects.values_list("venue_execution_id", flat=True))
    assert all(n == 1 for n in stored.values())
    for row in Order.objects.filter(pk__in=[first["id"], second["id"]]):
        fills = sum(f.quantity for f in OrderFill.objects.filter(order=row, refused_reason=""))
        assert fills == row.filled_quantity <= row.quantity


def test_an_rfq_is_answered_and_executed_by_a_liquidity_provider_over_fix(fix_stack):
    """QuoteRequest (R) out; the FIX LP's Quote (S) on the ladder; execution as NewOrderSingle
    with OrdType D and its QuoteID, filled by the LP's ExecutionReport; a request above its limit
    answered with QuoteRequestReject (AG)."""
    from rfq import services as rfq_services
    from rfq.models import Counterparty, Invitation, RfqExecution

    stack = fix_stack
    stack.start_worker()
    lp = rfq_services.counterparty_save(
        actor=None,
        counterparty=Counterparty(
            name="FIX LP", asset_classes=["EQUITY"], tier=1, max_notional=D("100000000"), connection="fix:LPFIX"
        ),
        action="create",
    )
    order = stack.order("AAPL", "500", urgency="LOW")
    code, rfq = stack.request(
        "POST", "/api/rfqs/", {"order": order["id"], "counterparties": [lp.pk], "window_seconds": 20}, user="trader"
    )
    assert code == 201, rfq

    def quoted():
        code, body = stack.request("GET", f"/api/rfqs/{rfq['id']}/", user="trader")
        return body["ladder"] if code == 200 and body.get("ladder") else None

    ladder = wait_for(quoted, DEADLINE, "the FIX LP's quote on the ladder")
    [row] = ladder
    assert row["provider"] == "FIX LP"
    code, body = stack.request("POST", f"/api/rfqs/{rfq['id']}/execute/", {"quote": row["quote"]}, user="trader")
    assert code == 200, body
    assert body["attempt"]["accepted"] is True, body
    execution = RfqExecution.objects.get(rfq_id=rfq["id"])
    filled = Order.objects.get(pk=order["id"])
    assert (filled.status, filled.filled_quantity) == ("FILLED", D("500"))
    assert filled.average_fill_price == execution.price == D(row["price"])

    # Far above the LP's limit: it rejects the request, and the invitation shows it passed.
    big = stack.order("AAPL", "200000", urgency="LOW")
    code, rfq = stack.request(
        "POST", "/api/rfqs/", {"order": big["id"], "counterparties": [lp.pk], "window_seconds": 20}, user="trader"
    )
    assert code == 201, rfq
    wait_for(
        lambda: Invitation.objects.filter(rfq_id=rfq["id"], counterparty=lp, passed=True).exists(),
        DEADLINE,
        "the FIX LP's QuoteRequestReject",
    )
