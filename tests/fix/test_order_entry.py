"""Client order entry over FIX 4.4, for real: the acceptor process (`run_fix`, QuickFIX) on
the test database, a simplefix client over TCP on localhost, fills applied through the OMS's
own service as the EMS applies them, and the blotters' REST view of the same orders."""

from __future__ import annotations

import time
from decimal import Decimal as D

import pytest
from django.utils import timezone

from fix.models import FixClOrdId, FixOrder, FixSession
from oms import services
from oms.domain import compliance
from oms.models import Order
from tests.conftest import postgres_only
from tests.fix.client import FixClient
from tests.fix.conftest import PASSWORD

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(pm, portfolio, aapl):
    pm.set_password(PASSWORD)
    pm.save()
    services.compliance_rule_ensure(
        kind=compliance.MAX_ORDER_NOTIONAL, portfolio=portfolio, limit=D("1000000"), name="max notional"
    )
    session = FixSession.objects.create(sender_comp_id="DEMOCLIENT", user=pm, portfolio=portfolio)
    return session


@pytest.fixture
def client_of(acceptor_process, desk):
    acceptor_process.begin()
    clients = []

    def make():
        client = FixClient(acceptor_process.port)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def fill(order_id: int, qty: str, price: str, n: int):
    return services.apply_fill(
        order_id=order_id, fill_id=f"T{order_id}-{n}", quantity=D(qty), price=D(price), venue="XNAS"
    )


def test_order_fills_cancel_replace_and_rejects(client_of, acceptor_process, portfolio, api_client, pm):
    client = client_of()
    assert client.logon("pm", PASSWORD) is not None

    # New, then a partial fill and a full fill streamed back as they happen.
    client.new_order("A1", "AAPL", "BUY", 100, "190.00")
    new = client.report("A1", "0")
    order = Order.objects.get(pk=int(new[37]))
    assert (order.status, order.quantity, order.limit_price, order.created_by) == ("ACCEPTED", 100, D("190"), pm)
    assert (new[39], new[14], new[151], new[6]) == ("0", "0", "100", "0")
    # The order is on the PM's blotter like any other.
    listed = api_client(pm).get("/api/orders/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["id"] for r in rows] == [order.pk]

    fill(order.pk, "40", "189.50", 1)
    partial = client.report("A1", "F")
    assert (partial[39], partial[32], partial[31], partial[14], partial[151], partial[6]) == (
        "1",
        "40",
        "189.5",
        "40",
        "60",
        "189.5",
    )
    fill(order.pk, "60", "190", 2)
    full = client.report("A1", "F")
    order.refresh_from_db()
    assert (full[39], full[32], full[14], full[151]) == ("2", "60", "100", "0")
    assert D(full[6]) == order.average_fill_price == D("189.8")

    # A cancel of a filled order: OrderCancelReject, too late.
    client.cancel("A1-C", "A1", "AAPL", "BUY", 100)
    reject = client.wait_for(lambda m: m.type == "9" and m[11] == "A1-C", what="OrderCancelReject")
    assert (reject[41], reject[102], reject[434], reject[39]) == ("A1", "0", "1", "2")

    # Cancel of an unknown order.
    client.cancel("X-C", "NOPE", "AAPL", "BUY", 10)
    unknown = client.wait_for(lambda m: m.type == "9" and m[11] == "X-C", what="OrderCancelReject")
    assert unknown[102] == "1"

    # Cancel-replace, then cancel: Replaced, Canceled, the OMS record the same.
    client.new_order("B1", "AAPL", "SELL", 50, "191.00")
    b1 = client.report("B1", "0")
    client.replace("B2", "B1", "AAPL", "SELL", 80, "191.50")
    replaced = client.report("B2", "5")
    b = Order.objects.get(pk=int(b1[37]))
    assert (replaced[41], replaced[38], replaced[44], replaced[151]) == ("B1", "80", "191.5", "80")
    assert (b.quantity, b.limit_price) == (D("80"), D("191.5"))
    client.cancel("B3", "B2", "AAPL", "SELL", 80)
    canceled = client.report("B3", "4")
    b.refresh_from_db()
    assert (canceled[41], canceled[39], canceled[151], b.status) == ("B2", "4", "0", "CANCELLED")

    # A duplicate ClOrdID is rejected and changes nothing; a PossDup resend of it is ignored.
    client.new_order("A1", "AAPL", "BUY", 5, "190.00")
    dup = client.report("A1", "8")
    assert dup[103] == "6"
    client.new_order("A1", "AAPL", "BUY", 100, "190.00", poss_dup=True)
    # An unknown symbol, then a compliance breach (notional above 1,000,000): both Rejected.
    client.new_order("U1", "NOSUCH", "BUY", 1, "1.00")
    assert client.report("U1", "8")[103] == "1"
    client.new_order("K1", "AAPL", "BUY", 10000, "190.00")
    breach = client.report("K1", "8")
    assert "notional" in breach[58].lower()
    assert Order.objects.get(pk=int(breach[37])).status == "REJECTED"
    # The PossDup resend answered nothing: the next report is the one after it.
    assert [m[11] for m in client.received] == []
    assert Order.objects.filter(portfolio=portfolio).count() == 3
    assert FixClOrdId.objects.filter(cl_ord_id="A1").count() == 1

    # Expiry reaches the client too.
    client.new_order("E1", "AAPL", "BUY", 10, "190.00")
    e1 = client.report("E1", "0")
    services.order_expire(order_id=int(e1[37]))
    expired = client.report("E1", "C")
    assert (expired[39], expired[151]) == ("C", "0")
    assert acceptor_process.alive()


def test_wrong_password_refused_and_the_acceptor_still_serves(client_of, acceptor_process, desk):
    intruder = client_of()
    assert intruder.logon("pm", "wrong") is None
    assert intruder.closed
    assert acceptor_process.alive()
    desk.refresh_from_db()
    # The refused logon left the stored sequence numbers as they were: a client starting at 1 logs on.
    client = client_of()
    assert client.logon("pm", PASSWORD) is not None
    client.new_order("W1", "AAPL", "BUY", 1, "190.00")
    assert client.report("W1", "0")[39] == "0"


def test_resend_after_a_dropped_connection_brings_every_missed_report_once(client_of, acceptor_process):
    client = client_of()
    assert client.logon("pm", PASSWORD) is not None
    client.new_order("G1", "AAPL", "BUY", 100, "190.00")
    order_id = int(client.report("G1", "0")[37])
    client.close()  # dropped, no logout
    for n in range(1, 4):
        fill(order_id, "10", "190", n)
    row = FixOrder.objects.get(order_id=order_id)
    deadline = timezone.now() + timezone.timedelta(seconds=15)
    while row.reported_cum_qty != 30 and timezone.now() < deadline:
        time.sleep(0.05)  # waiting for the state asserted below
        row.refresh_from_db()
    assert row.reported_cum_qty == 30  # sent (stored by the engine) while the client was away

    client.connect()
    assert client.logon("pm", PASSWORD) is not None
    reports = [client.report("G1", "F") for _ in range(3)]
    assert [(r[32], r[14], r.get(43)) for r in reports] == [("10", "10", "Y"), ("10", "20", "Y"), ("10", "30", "Y")]
    assert len({r[17] for r in reports}) == 3
    client.drain(1.0)
    assert [m for m in client.received if m.type == "8"] == []  # nothing doubled
    fill(order_id, "70", "190", 4)
    last = client.report("G1", "F")
    assert (last[14], last[151], last[39], last.get(43)) == ("100", "0", "2", None)


def test_malformed_garbled_and_out_of_sequence_messages_never_crash(client_of, acceptor_process):
    client = client_of()
    assert client.logon("pm", PASSWORD) is not None
    # A NewOrderSingle without its required Side: a session-level Reject from the data dictionary.
    client.send("D", [(11, "M1"), (55, "AAPL"), (60, "20261201-20:00:00"), (38, "1"), (40, "1")])
    msg = client.pump(5)
    while msg is not None and msg.type not in ("3", "8", "j"):
        msg = client.pump(5)
    assert msg is not None and msg.type == "3", msg
    # Garbage bytes and a message with a bad checksum: dropped, the session lives on.
    client.send_raw(b"this is not fix\x01\x01")
    client.send_raw(b"8=FIX.4.4\x019=5\x0135=D\x0110=000\x01")
    client.new_order("M2", "AAPL", "BUY", 1, "190.00")
    assert client.report("M2", "0")[39] == "0"
    # An unsupported message type: a BusinessMessageReject.
    client.send("R", [(131, "Q1"), (146, "1"), (55, "AAPL")])
    assert client.wait_for(lambda m: m.type in ("j", "3"), 5, "a reject").type in ("j", "3")
    # A sequence number too low: the acceptor logs out, and is still serving afterwards.
    client.send("0", [], seq=1)
    deadline = 10
    while not client.closed and deadline > 0:
        client.pump(1)
        deadline -= 1
    assert client.closed
    assert acceptor_process.alive()


def test_a_callback_that_fails_is_answered_and_the_session_lives(client_of, acceptor_process):
    """An order the database cannot store (a quantity beyond its precision) raises inside
    fromApp: the wrapper logs it and answers with a BusinessMessageReject, and the same
    session goes on taking orders."""
    client = client_of()
    assert client.logon("pm", PASSWORD) is not None
    client.new_order("H1", "AAPL", "BUY", "1" + "0" * 30, "190.00")
    answer = client.wait_for(lambda m: m.type in ("j", "8"), 10, "an answer to H1")
    assert answer.type == "j" or answer[150] == "8", answer
    client.new_order("H2", "AAPL", "BUY", 1, "190.00")
    assert client.report("H2", "0")[39] == "0"
    assert acceptor_process.alive()


def wait_until(predicate, timeout: float = 15.0, what: str = "the state"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)  # polling for the state asserted, not proving an absence
    raise AssertionError(f"{what} not reached within {timeout}s")


def test_console_lists_sessions_and_disabling_one_logs_it_out(client_of, acceptor_process, desk, client, admin_user):
    from accounts.services import user_role_set
    from core.models import ConsoleChange

    fix_client = client_of()
    assert fix_client.logon("pm", PASSWORD) is not None
    fix_client.new_order("S1", "AAPL", "BUY", 1, "190.00")
    fix_client.report("S1", "0")
    row = wait_until(
        lambda: FixSession.objects.filter(pk=desk.pk, logged_on=True, next_target_seq=3).first(),
        what="the session shown logged on after Logon and an order",
    )
    assert (row.next_sender_seq, row.messages_today) == (3, 2)
    assert row.last_message_at is not None

    user_role_set(user=admin_user, role="Admin")
    client.force_login(admin_user)
    page = client.get("/admin/fix/fixsession/")
    assert page.status_code == 200 and b"DEMOCLIENT" in page.content
    answer = client.post(
        "/admin/fix/fixsession/", {"action": "disable_sessions", "_selected_action": [desk.pk]}, follow=True
    )
    assert answer.status_code == 200
    desk.refresh_from_db()
    assert not desk.enabled
    change = ConsoleChange.objects.get(object_id=str(desk.pk), action="DISABLE")
    assert change.actor == admin_user and "disabled FIX session" in change.summary

    # The acceptor logs the session out, and refuses it from then on.
    deadline = time.monotonic() + 15
    logout = None
    while time.monotonic() < deadline and not fix_client.closed:
        msg = fix_client.pump(1)
        if msg is not None and msg.type == "5":
            logout = msg
            break
    assert logout is not None and "disabled" in logout.get(58, "")
    fix_client.close()
    again = client_of()
    assert again.logon("pm", PASSWORD) is None
    wait_until(lambda: FixSession.objects.filter(pk=desk.pk, logged_on=False).exists(), what="shown logged out")
    assert acceptor_process.alive()


def test_a_worked_order_cancel_pends_until_the_ems_answers(client_of, acceptor_process):
    """A cancel of an order the EMS is working: Pending Cancel, then Canceled when the EMS
    confirms; a second one refused by the EMS is an OrderCancelReject, the order working on."""
    client = client_of()
    assert client.logon("pm", PASSWORD) is not None
    client.new_order("P1", "AAPL", "BUY", 100, "190.00")
    order_id = int(client.report("P1", "0")[37])
    services.order_work(order_id=order_id)
    fill(order_id, "30", "190", 1)
    assert client.report("P1", "F")[14] == "30"
    client.cancel("P2", "P1", "AAPL", "BUY", 100)
    pending = client.report("P2", "6")
    assert (pending[41], pending[39], pending[14], pending[151]) == ("P1", "6", "30", "70")
    services.order_cancel_confirm(order_id=order_id)
    canceled = client.report("P2", "4")
    assert (canceled[39], canceled[14], canceled[151]) == ("4", "30", "0")

    client.new_order("Q1", "AAPL", "BUY", 100, "190.00")
    other = int(client.report("Q1", "0")[37])
    services.order_work(order_id=other)
    client.cancel("Q2", "Q1", "AAPL", "BUY", 100)
    client.report("Q2", "6")
    services.order_cancel_reject(order_id=other, reason="venue refused")
    refused = client.wait_for(lambda m: m.type == "9" and m[11] == "Q2", what="OrderCancelReject from the EMS")
    assert (refused[41], refused[39], refused[434]) == ("Q1", "0", "1")
    assert Order.objects.get(pk=other).status == "WORKING"
    # Still the order's ClOrdID: a fill now is reported on Q1.
    fill(other, "100", "190", 2)
    assert client.report("Q1", "F")[39] == "2"
