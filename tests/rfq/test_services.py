"""RFQ services with an injected clock: selection, dissemination (anonymity of the actual
message), quotes, updates and withdrawals, the ladder, execution with last look, expiry,
auto-execution, the best-execution record and scorecards."""

import json
import time
from decimal import Decimal as D

import pytest
from django.core.cache import cache

from core.errors import Conflict, DomainError, IllegalTransition
from marketdata.selectors import snapshot_key
from oms.models import Order, OrderFill, Position
from rfq import selectors, services
from rfq.models import CounterpartyChange, Invitation, Quote, Rfq, RfqEvent, RfqExecution
from tests.rfq.conftest import at

pytestmark = pytest.mark.django_db


def set_mid(symbol: str, mid: str):
    cache.set(snapshot_key(symbol), {"mid": mid, "published_at": time.time()})


def open_sent(trader, order, **kw) -> Rfq:
    rfq = services.rfq_open(actor=trader, order_id=order.pk, now=at(0), **kw)
    services.rfq_disseminate(rfq_id=rfq.pk, now=at(0))
    rfq.refresh_from_db()
    return rfq


def inv_of(rfq, name) -> Invitation:
    return rfq.invitations.get(counterparty__name=name)


def quote(rfq, name, *, ask=None, bid=None, size="10000", t=1.0, validity=5.0):
    return services.quote_submit(
        invitation_id=inv_of(rfq, name).pk,
        bid=D(bid) if bid else None,
        ask=D(ask) if ask else None,
        size=D(size),
        validity_seconds=validity,
        now=at(t),
    )


def test_automatic_selection_ranks_eligible_counterparties(trader, order, counterparties):
    counterparties["Cobalt Trading"].enabled = False
    services.counterparty_save(actor=None, counterparty=counterparties["Cobalt Trading"])
    rfq = services.rfq_open(actor=trader, order_id=order.pk, now=at(0))
    # All have the neutral score: tier, then name.
    assert [i.counterparty.name for i in rfq.invitations.select_related("counterparty")] == [
        "Apex Markets",
        "Ember Securities",
        "Birch Capital",
        "Dune Liquidity",
    ]
    assert (rfq.status, rfq.quantity, rfq.side, rfq.window_seconds, rfq.mid_at_open) == (
        "DRAFT",
        D("10000"),
        "BUY",
        10,
        D("190.00"),
    )
    (leg,) = rfq.legs.all()
    assert (leg.index, leg.order_id, leg.instrument.symbol, leg.side, leg.ratio) == (0, order.pk, "AAPL", "BUY", D(1))


def test_max_notional_and_asset_class_leave_counterparties_out(trader, pm, portfolio, btc, counterparties):
    from oms.services import order_submit

    o = order_submit(actor=pm, portfolio=portfolio, instrument=btc, side="BUY", quantity=D("1000"), urgency="LOW")
    # 1000 BTC at 95,000 = 95M: Apex (500M) quotes crypto; Cobalt's 100M also; nobody else quotes crypto.
    rfq = services.rfq_open(actor=trader, order_id=o.pk, now=at(0))
    assert sorted(i.counterparty.name for i in rfq.invitations.all()) == ["Apex Markets", "Cobalt Trading"]


def test_explicit_counterparties_are_checked(trader, order, counterparties):
    counterparties["Dune Liquidity"].enabled = False
    services.counterparty_save(actor=None, counterparty=counterparties["Dune Liquidity"])
    with pytest.raises(DomainError, match="Dune Liquidity is disabled"):
        services.rfq_open(actor=trader, order_id=order.pk, counterparty_ids=[counterparties["Dune Liquidity"].pk])
    assert Rfq.objects.count() == 0
    rfq = services.rfq_open(
        actor=trader, order_id=order.pk, counterparty_ids=[counterparties["Birch Capital"].pk], now=at(0)
    )
    assert [i.counterparty.name for i in rfq.invitations.all()] == ["Birch Capital"]


def test_open_refusals(trader, order, counterparties):
    with pytest.raises(DomainError, match="at most the unfilled 10000"):
        services.rfq_open(actor=trader, order_id=order.pk, quantity=D("10001"))
    with pytest.raises(DomainError, match="multiple of the lot size"):
        services.rfq_open(actor=trader, order_id=order.pk, quantity=D("10.5"))
    with pytest.raises(DomainError, match="window_seconds"):
        services.rfq_open(actor=trader, order_id=order.pk, window_seconds=0)
    services.rfq_open(actor=trader, order_id=order.pk)
    with pytest.raises(Conflict, match="already has an open RFQ"):
        services.rfq_open(actor=trader, order_id=order.pk)
    assert Rfq.objects.count() == 1


def test_what_a_provider_receives_identifies_neither_the_client_nor_the_others(
    trader, order, portfolio, counterparties
):
    rfq = open_sent(trader, order)
    assert rfq.status == "SENT" and rfq.window_ends_at == at(10)
    names = [c.name for c in counterparties.values()]
    for inv in rfq.invitations.select_related("counterparty"):
        message = inv.message
        assert message == {
            "request": inv.token,
            "legs": [{"instrument": "AAPL", "ratio": "1.0000", "side": "BUY"}],
            "quantity": "10000.00000000",
            "side": "BUY",
            "two_way": False,
            "respond_within_seconds": 10,
        }
        text = json.dumps(message)
        for secret in [portfolio.name, "pm", "trader", str(order.pk), *names]:
            assert f'"{secret}"' not in text and secret not in message.values()
    tokens = list(rfq.invitations.values_list("token", flat=True))
    assert len(set(tokens)) == len(tokens) == 5


def test_two_way_hides_the_side(trader, order, counterparties):
    rfq = open_sent(trader, order, two_way=True)
    message = rfq.invitations.first().message
    assert message["side"] is None and message["two_way"] is True
    assert message["legs"] == [{"instrument": "AAPL", "ratio": "1.0000"}]
    assert "BUY" not in json.dumps(message)


def test_dissemination_is_idempotent(trader, order, counterparties):
    rfq = open_sent(trader, order)
    assert services.rfq_disseminate(rfq_id=rfq.pk, now=at(1)) is None
    assert RfqEvent.objects.filter(rfq=rfq, event="SEND").count() == 1


def test_quotes_updates_withdrawals_and_the_ladder(trader, order, counterparties):
    rfq = open_sent(trader, order)
    q1 = quote(rfq, "Apex Markets", ask="190.10", t=0.2)
    q2 = quote(rfq, "Birch Capital", ask="190.20", t=1.5)
    quote(rfq, "Ember Securities", ask="190.05", size="4000", t=0.3, validity=1.0)
    rfq.refresh_from_db()
    assert rfq.status == "QUOTING"
    snap = selectors.rfq_snapshot(rfq, now=at(2))  # Ember's quote expired at 1.3
    assert [(r["provider"], r["price"], r["bps_from_mid"], r["time_left"]) for r in snap["ladder"]] == [
        ("Apex Markets", "190.10000000", "5.26", 3.2),
        ("Birch Capital", "190.20000000", "10.53", 4.5),
    ]
    # Apex updates: the old quote is replaced, the new one leads.
    q1b = quote(rfq, "Apex Markets", ask="190.04", t=2.5)
    q1.refresh_from_db()
    assert q1.status == "REPLACED" and q1b.replaces_id == q1.pk
    services.quote_withdraw(invitation_id=inv_of(rfq, "Birch Capital").pk, now=at(3))
    q2.refresh_from_db()
    assert q2.status == "WITHDRAWN"
    snap = selectors.rfq_snapshot(rfq, now=at(3))
    assert [(r["quote"], r["price"]) for r in snap["ladder"]] == [(q1b.pk, "190.04000000")]
    # After the window: ignored.
    assert quote(rfq, "Dune Liquidity", ask="190.00", t=10.0) is None
    assert Quote.objects.filter(rfq=rfq).count() == 4


def test_execute_fills_the_order_through_the_oms_and_records_best_execution(trader, order, portfolio, counterparties):
    rfq = open_sent(trader, order)
    best = quote(rfq, "Apex Markets", ask="190.05", t=0.5)
    quote(rfq, "Birch Capital", ask="190.12", t=1.0)
    services.invitation_pass(invitation_id=inv_of(rfq, "Dune Liquidity").pk, now=at(0.8))
    result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=best.pk, now=at(2))
    assert result.accepted
    rfq.refresh_from_db()
    order.refresh_from_db()
    assert (rfq.status, order.status, order.filled_quantity, order.average_fill_price) == (
        "EXECUTED",
        "FILLED",
        D("10000"),
        D("190.05"),
    )
    fill = OrderFill.objects.get(order=order)
    assert (fill.fill_id, fill.quantity, fill.price, fill.venue) == (
        f"rfq-{rfq.pk}-leg0",
        D("10000"),
        D("190.05"),
        "RFQ Apex Markets",
    )
    assert Position.objects.get(portfolio=portfolio, instrument=order.instrument).quantity == D("10000")
    ex = RfqExecution.objects.get(rfq=rfq)
    assert (ex.price, ex.mid, ex.second_best_price, ex.improvement_vs_mid_bps, ex.improvement_vs_second_bps) == (
        D("190.05"),
        D("190.00"),
        D("190.12"),
        D("-2.63"),
        D("3.68"),
    )
    assert ex.reason == "chosen by the trader" and ex.executed_by == trader
    assert [(r["provider"], r["price"], r["status"]) for r in ex.quotes_record] == [
        ("Apex Markets", "190.05000000", "EXECUTED"),
        ("Birch Capital", "190.12000000", "CLOSED"),
    ]
    assert list(Quote.objects.filter(rfq=rfq).values_list("status", flat=True)) == ["EXECUTED", "CLOSED"]
    snap = selectors.rfq_snapshot(rfq, now=at(3))
    assert snap["outcome"] == "FILLED" and snap["ladder"] == []
    assert snap["execution"]["improvement_vs_second_bps"] == "3.68"

    # A second execution is refused and changes nothing.
    events = RfqEvent.objects.count()
    with pytest.raises(Conflict, match="is EXECUTED"):
        services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=best.pk, now=at(2.1))
    assert RfqEvent.objects.count() == events and OrderFill.objects.count() == 1


def test_expired_and_withdrawn_quotes_are_refused(trader, order, counterparties):
    rfq = open_sent(trader, order)
    short = quote(rfq, "Apex Markets", ask="190.05", t=0.5, validity=1.0)
    gone = quote(rfq, "Birch Capital", ask="190.06", t=0.5)
    services.quote_withdraw(invitation_id=inv_of(rfq, "Birch Capital").pk, now=at(1))
    with pytest.raises(Conflict, match="expired"):
        services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=short.pk, now=at(1.5))
    with pytest.raises(Conflict, match="is WITHDRAWN"):
        services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=gone.pk, now=at(1.5))
    rfq.refresh_from_db()
    assert rfq.status == "QUOTING" and not OrderFill.objects.exists()


def test_last_look_rejection_then_the_next_quote(trader, order, counterparties):
    rfq = open_sent(trader, order)
    apex = quote(rfq, "Apex Markets", ask="190.10", t=0.5)  # tolerance 8 bps
    birch = quote(rfq, "Birch Capital", ask="190.60", t=0.6)
    set_mid("AAPL", "190.50")  # the mid moved 21 bps above Apex's price
    result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=apex.pk, now=at(1))
    assert not result.accepted
    rfq.refresh_from_db()
    apex.refresh_from_db()
    assert (rfq.status, apex.status, OrderFill.objects.count()) == ("QUOTING", "REJECTED", 0)
    snap = selectors.rfq_snapshot(rfq, now=at(1))
    assert snap["outcome"] == "LAST_LOOK_REJECTED"
    assert snap["rejections"] == [{"quote": apex.pk, "provider": "Apex Markets", "price": "190.10000000"}]
    assert [r["quote"] for r in snap["ladder"]] == [birch.pk]
    assert services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=birch.pk, now=at(1.2)).accepted
    rfq.refresh_from_db()
    assert rfq.status == "EXECUTED"
    assert selectors.scorecard_of(counterparties["Apex Markets"]).last_look_rejections == 1


def test_window_close_without_quotes_expires_with_no_quotes(trader, order, counterparties):
    rfq = open_sent(trader, order)
    assert services.rfq_close(rfq_id=rfq.pk, now=at(5)).retry_in == 5.0
    assert services.rfq_close(rfq_id=rfq.pk, now=at(10)).status == "EXPIRED"
    assert selectors.rfq_snapshot(rfq, now=at(11))["outcome"] == "NO_QUOTES"
    assert services.rfq_close(rfq_id=rfq.pk, now=at(12)).status == "EXPIRED"  # idempotent
    assert RfqEvent.objects.filter(rfq=rfq, event="EXPIRE").count() == 1


def test_window_close_expires_unexecuted_quotes(trader, order, counterparties):
    rfq = open_sent(trader, order)
    quote(rfq, "Apex Markets", ask="190.10", t=0.5, validity=3)
    quote(rfq, "Birch Capital", ask="190.20", t=8, validity=5)
    assert services.rfq_close(rfq_id=rfq.pk, now=at(10)).status == "EXPIRED"
    assert list(Quote.objects.filter(rfq=rfq).values_list("status", flat=True)) == ["EXPIRED", "CLOSED"]
    assert selectors.rfq_snapshot(rfq, now=at(11))["outcome"] == "EXPIRED"


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [({"auto_execute_price": D("190.10")}, "EXECUTED"), ({"auto_execute_bps": D("2")}, "EXPIRED")],
)
def test_auto_execution_at_the_window_end(trader, order, counterparties, threshold, expected):
    rfq = open_sent(trader, order, **threshold)
    quote(rfq, "Birch Capital", ask="190.08", t=0.5, validity=20)  # 4.21 bps from the mid
    assert services.rfq_close(rfq_id=rfq.pk, now=at(10)).status == expected
    if expected == "EXECUTED":
        assert RfqExecution.objects.get(rfq=rfq).reason == (
            "auto-executed at the window's end: at or better than 190.10000000"
        )


def test_auto_execution_takes_the_next_quote_after_a_last_look_rejection(trader, order, counterparties):
    rfq = open_sent(trader, order, auto_execute_bps=D("30"))
    quote(rfq, "Apex Markets", ask="190.10", t=0.5, validity=20)
    birch = quote(rfq, "Birch Capital", ask="190.60", t=0.6, validity=20)
    set_mid("AAPL", "190.50")
    assert services.rfq_close(rfq_id=rfq.pk, now=at(10)).executed.quote.pk == birch.pk


def test_scorecards_follow_the_history(trader, order, counterparties):
    rfq = open_sent(trader, order)
    win = quote(rfq, "Apex Markets", ask="190.05", t=0.5)
    quote(rfq, "Birch Capital", ask="190.15", t=2.0)
    services.invitation_pass(invitation_id=inv_of(rfq, "Dune Liquidity").pk, now=at(1))
    services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=win.pk, now=at(3))
    cards = selectors.scorecards()
    apex, birch = cards[counterparties["Apex Markets"].pk], cards[counterparties["Birch Capital"].pk]
    dune, ember = cards[counterparties["Dune Liquidity"].pk], cards[counterparties["Ember Securities"].pk]
    assert (apex.requests, apex.response_rate, apex.hit_ratio, apex.best_ratio, apex.median_response_seconds) == (
        1,
        1.0,
        1.0,
        1.0,
        0.5,
    )
    assert (apex.avg_distance_from_best_bps, apex.avg_distance_from_mid_bps) == (D("0.00"), D("2.63"))
    assert (birch.hit_ratio, birch.best_ratio, birch.avg_distance_from_best_bps) == (0.0, 0.0, D("5.26"))
    assert (dune.passes, dune.responses, dune.quotes) == (1, 1, 0)
    assert (ember.responses, ember.response_rate) == (0, 0.0)
    # The next RFQ ranks the winner first.
    order2 = Order.objects.get(pk=order.pk)
    assert order2.status == "FILLED"
    assert [c.name for c in sorted(selectors.candidates(), key=lambda c: -c.score)][0] == "Apex Markets"


def test_cancel(trader, order, counterparties):
    rfq = open_sent(trader, order)
    quote(rfq, "Apex Markets", ask="190.05", t=0.5)
    services.rfq_cancel(actor=trader, rfq_id=rfq.pk, now=at(1))
    rfq.refresh_from_db()
    assert rfq.status == "CANCELLED"
    with pytest.raises(IllegalTransition):
        services.rfq_cancel(actor=trader, rfq_id=rfq.pk, now=at(2))


def test_provider_plans_run_through_the_services(trader, order, counterparties):
    rfq = open_sent(trader, order)
    for inv in rfq.invitations.all():
        for i, action in enumerate(inv.plan):
            services.provider_act(invitation_id=inv.pk, index=i, now=at(action["at"]))
    quotes = Quote.objects.filter(rfq=rfq)
    assert quotes.exists()
    for q in quotes:
        assert q.ask > D("190.00") and q.bid is None and q.size == D("10000")
        assert q.ask == q.ask.quantize(D("0.01"))


def test_counterparty_changes_are_audited_with_old_and_new_values(admin_user, counterparties):
    apex = counterparties["Apex Markets"]
    assert CounterpartyChange.objects.filter(counterparty=apex, action="create").count() == 1
    apex.tier, apex.notes = 3, "watch"
    services.counterparty_save(actor=admin_user, counterparty=apex)
    ch = CounterpartyChange.objects.filter(counterparty=apex).last()
    assert (ch.actor, ch.action, ch.changes) == (admin_user, "update", {"tier": [1, 3], "notes": ["", "watch"]})
    n = services.counterparties_update(
        actor=admin_user,
        counterparty_ids=[apex.pk, counterparties["Birch Capital"].pk],
        action="disable",
        enabled=False,
    )
    assert n == 2
    assert CounterpartyChange.objects.filter(action="disable").count() == 2
    assert CounterpartyChange.objects.filter(action="disable").first().changes == {"enabled": [True, False]}
    with pytest.raises(DomainError, match="unknown connection"):
        apex.connection = "nope"
        services.counterparty_save(actor=admin_user, counterparty=apex)
