"""Package RFQs on real PostgreSQL: dissemination without the client, makers' net quotes from
the legs' model values, the ladder's distance and implied leg prices, all-or-none (every leg
or none, also on a last-look rejection, a refused leg and concurrent clicks) and any-part-of
(best-first across makers, never above the size, the minimum trade amount), the hedge leg,
and positions equal to the legs' fills."""

import json
import threading
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from core.errors import Conflict
from oms.models import Order, OrderFill, Position
from oms.packages import LegInput, package_submit
from oms.services import apply_fill
from rfq import pricing, selectors, services
from rfq.domain.legs import Leg, net_of
from rfq.models import Quote, RfqExecution, RfqExecutionPart
from tests.conftest import postgres_only
from tests.rfq.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def straddle(pm, portfolio, aapl_chain):
    legs = [LegInput(aapl_chain["C200"], "BUY", D(1)), LegInput(aapl_chain["P200"], "BUY", D(1))]
    return package_submit(actor=pm, portfolio=portfolio, quantity=D(50), legs=legs, hedge=True, template="STRADDLE")


def open_rfq(trader, package, names=("Apex Markets", "Birch Capital", "Ember Securities"), **kw):
    from rfq.models import Counterparty

    ids = [Counterparty.objects.get(name=n).pk for n in names]
    with transaction.atomic():  # disseminated here: no worker's simulated maker quotes into the test
        rfq = services.rfq_open(
            actor=trader, package_id=package.pk, counterparty_ids=ids, window_seconds=60, now=at(0), **kw
        )
        services.rfq_disseminate(rfq_id=rfq.pk, now=at(0))
    rfq.refresh_from_db()
    return rfq


def quote(rfq, name, ask=None, bid=None, size=None, hedge_price=D("190.00"), seconds=1.0):
    inv = rfq.invitations.get(counterparty__name=name)
    return services.quote_submit(
        invitation_id=inv.pk,
        bid=bid,
        ask=ask,
        size=rfq.quantity if size is None else D(size),
        validity_seconds=60,
        hedge_price=hedge_price,
        now=at(seconds),
    )


def legs_of(rfq):
    return [Leg(leg.index, leg.side, leg.ratio, leg.model_price) for leg in rfq.legs.filter(is_hedge=False)]


def fills_by_order(package):
    return {
        x.order_id: list(OrderFill.objects.filter(order_id=x.order_id).values_list("quantity", "price"))
        for x in package.legs.all()
    }


def test_the_makers_see_legs_ratios_size_and_side_never_the_client(trader, straddle, counterparties, portfolio, pm):
    rfq = open_rfq(trader, straddle)
    message = rfq.invitations.first().message
    assert message["legs"] == [
        {"instrument": "AAPL-270319-C-200", "ratio": "1.0000", "side": "BUY"},
        {"instrument": "AAPL-270319-P-200", "ratio": "1.0000", "side": "BUY"},
    ]
    assert (message["quantity"], message["side"], message["execution_mode"]) == ("50.00000000", "BUY", "ALL_OR_NONE")
    assert message["hedge"]["instrument"] == "AAPL"
    assert set(message) == {
        "request",
        "legs",
        "quantity",
        "side",
        "two_way",
        "respond_within_seconds",
        "execution_mode",
        "min_trade_quantity",
        "price",
        "hedge",
    }
    text = json.dumps(message)
    for secret in (portfolio.name, pm.username, "portfolio", "order", "package"):
        assert secret not in text
    two_way = open_rfq(
        trader,
        package_submit(
            actor=pm,
            portfolio=portfolio,
            quantity=D(5),
            legs=[LegInput(straddle.legs.get(index=0).order.instrument, "BUY", D(1))],
        ),
        two_way=True,
    )
    m = two_way.invitations.first().message
    assert m["side"] is None and "side" not in m["legs"][0]


def test_simulated_makers_quote_one_net_price_from_the_legs_model_values(trader, straddle, counterparties):
    rfq = open_rfq(trader, straddle, two_way=True)
    mid = rfq.mid_at_open
    assert mid == sum(leg.model_price for leg in rfq.legs.filter(is_hedge=False)).quantize(D("0.0001"))
    for inv in rfq.invitations.all():
        for i, action in enumerate(inv.plan):
            if action["kind"] == "QUOTE":
                q = services.provider_act(invitation_id=inv.pk, index=i, now=at(action["at"]))
                assert q.bid < mid < q.ask and q.bid % D("0.05") == 0 and q.ask % D("0.05") == 0
                assert q.size == D(50)
                assert (q.hedge_price is not None) == inv.plan[i]["takes_hedge"]
    birch = rfq.invitations.get(counterparty__name="Birch Capital")
    assert birch.plan[0]["takes_hedge"] is False  # wide_slow leaves the hedge to the EMS


def test_the_ladder_shows_distance_from_the_model_mid_and_implied_leg_prices(trader, straddle, counterparties):
    rfq = open_rfq(trader, straddle)
    mid = rfq.mid_at_open
    ask = (mid / D("0.05")).to_integral_value() * D("0.05") + D("0.40")
    quote(rfq, "Apex Markets", ask=ask)
    snap = selectors.rfq_snapshot(rfq, now=at(2))
    (row,) = snap["ladder"]
    premium = D(snap["premium"])
    assert (row["provider"], D(row["price"]), D(row["size"])) == ("Apex Markets", ask, D(50))
    assert D(row["distance"]) == ask - D(snap["mid"])
    assert D(row["bps_from_mid"]) == ((ask - D(snap["mid"])) / premium * 10000).quantize(D("0.01"))
    assert row["time_left"] == 59.0
    prices = {leg["index"]: D(leg["price"]) for leg in row["implied_legs"]}
    assert net_of(legs_of(rfq), prices, "BUY") == ask


def test_all_or_none_books_every_leg_and_the_hedge_and_positions_equal_the_fills(
    trader, straddle, counterparties, portfolio
):
    rfq = open_rfq(trader, straddle)
    ask = (rfq.mid_at_open / D("0.05")).to_integral_value() * D("0.05") + D("0.30")
    q = quote(rfq, "Apex Markets", ask=ask, hedge_price=D("190.02"))
    result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=q.pk, now=at(2))
    assert result.accepted
    legs = list(straddle.legs.select_related("order__instrument"))
    call, put, hedge = (Order.objects.get(pk=x.order_id) for x in legs)
    assert (call.status, put.status, hedge.status) == ("FILLED", "FILLED", "FILLED")
    part = RfqExecutionPart.objects.get()
    leg_prices = {int(k): D(v) for k, v in part.leg_prices.items()}
    assert net_of(legs_of(rfq), leg_prices, "BUY") == ask
    assert (call.average_fill_price, put.average_fill_price) == (leg_prices[0], leg_prices[1])
    assert hedge.average_fill_price == D("190.02") and hedge.filled_quantity == hedge.quantity
    for x in legs:
        fills = OrderFill.objects.filter(order_id=x.order_id)
        assert [f.fill_id for f in fills] == [f"rfq-{rfq.pk}-leg{x.index}"]
        position = Position.objects.get(portfolio=portfolio, instrument=x.order.instrument)
        signed = sum((f.quantity if x.order.side == "BUY" else -f.quantity) for f in fills)
        assert position.quantity == signed
    snap = selectors.rfq_snapshot(rfq, now=at(3))
    assert snap["status"] == "EXECUTED" and snap["execution"]["parts"][0]["provider"] == "Apex Markets"
    assert {x["status"] for x in snap["leg_orders"]} == {"FILLED"}


def test_all_or_none_last_look_rejection_books_nothing(trader, straddle, counterparties):
    rfq = open_rfq(trader, straddle)
    # Priced a whole point through the model mid: every maker's last look refuses it.
    q = quote(rfq, "Ember Securities", ask=(rfq.mid_at_open / D("0.05")).to_integral_value() * D("0.05") - 1)
    result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=q.pk, now=at(2))
    assert not result.accepted
    rfq.refresh_from_db()
    assert (rfq.status, Quote.objects.get(pk=q.pk).status) == ("QUOTING", "REJECTED")
    assert OrderFill.objects.count() == 0 and RfqExecution.objects.count() == 0
    assert Position.objects.count() == 0


def test_a_refused_leg_undoes_the_whole_execution(trader, straddle, counterparties):
    """A leg whose fill is refused (its order was filled meanwhile) raises inside the one
    transaction: the other legs, the hedge, the quote and the RFQ are as before."""
    rfq = open_rfq(trader, straddle)
    q = quote(rfq, "Apex Markets", ask=(rfq.mid_at_open / D("0.05")).to_integral_value() * D("0.05") + 1)
    put = straddle.legs.get(index=1).order
    apply_fill(order_id=put.pk, fill_id="elsewhere-1", quantity=D(50), price=D("15.00"))
    with pytest.raises(Conflict, match="refused"):
        services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=q.pk, now=at(2))
    rfq.refresh_from_db()
    assert (rfq.status, Quote.objects.get(pk=q.pk).status) == ("QUOTING", "LIVE")
    assert list(OrderFill.objects.values_list("fill_id", flat=True)) == ["elsewhere-1"]
    assert RfqExecution.objects.count() == 0


def test_all_or_none_refuses_a_quote_for_part_of_the_size(trader, straddle, counterparties):
    rfq = open_rfq(trader, straddle)
    q = quote(rfq, "Apex Markets", ask=D("30.00"), size="20")
    with pytest.raises(Conflict, match="all-or-none"):
        services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=q.pk, now=at(2))
    assert OrderFill.objects.count() == 0


def test_any_part_of_fills_best_first_across_makers_never_above_the_size(trader, straddle, counterparties):
    rfq = open_rfq(trader, straddle, execution_mode="ANY_PART_OF", min_trade_quantity=D(10))
    base = (rfq.mid_at_open / D("0.05")).to_integral_value() * D("0.05")
    apex = quote(rfq, "Apex Markets", ask=base + D("0.20"), size="30")
    birch = quote(rfq, "Birch Capital", ask=base + D("0.30"), size="45", hedge_price=None)
    ember = quote(rfq, "Ember Securities", ask=base + D("0.50"), size="30")
    # The trader clicks the worst row: every quote at that price or better fills, best first.
    result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=ember.pk, now=at(2))
    assert result.accepted
    parts = list(RfqExecutionPart.objects.order_by("id").values_list("quote_id", "quantity"))
    assert parts == [(apex.pk, D(30)), (birch.pk, D(20))]  # 50 units; Ember's part is not needed
    call, put, hedge = (Order.objects.get(pk=x.order_id) for x in straddle.legs.all())
    assert (call.filled_quantity, put.filled_quantity, call.status) == (D(50), D(50), "FILLED")
    # Apex took its 30 units' share of the hedge; Birch does not take hedges: the rest stays
    # on the hedge order for the EMS to work as an ordinary order.
    assert hedge.filled_quantity == (hedge.quantity * 30 / 50).to_integral_value(rounding="ROUND_FLOOR")
    assert hedge.status == "PARTIALLY_FILLED"
    execution = RfqExecution.objects.get()
    assert execution.quantity == D(50)
    assert execution.price == ((base + D("0.20")) * 30 + (base + D("0.30")) * 20) / 50
    assert Quote.objects.get(pk=ember.pk).status == "CLOSED"
    for p in RfqExecutionPart.objects.all():
        prices = {int(k): D(v) for k, v in p.leg_prices.items()}
        assert net_of(legs_of(rfq), prices, "BUY") == p.price


def test_any_part_of_last_look_rejects_one_makers_part_the_rest_holds(trader, straddle, counterparties):
    rfq = open_rfq(trader, straddle, execution_mode="ANY_PART_OF", min_trade_quantity=D(10))
    base = (rfq.mid_at_open / D("0.05")).to_integral_value() * D("0.05")
    ember = quote(rfq, "Ember Securities", ask=base - 1, size="40")  # through the mid: rejected on last look
    apex = quote(rfq, "Apex Markets", ask=base + D("0.20"), size="30")
    birch = quote(rfq, "Birch Capital", ask=base + D("0.25"), size="15", hedge_price=None)
    result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=birch.pk, now=at(2))
    assert result.accepted
    assert list(RfqExecutionPart.objects.order_by("id").values_list("quote_id", "quantity")) == [
        (apex.pk, D(30)),
        (birch.pk, D(15)),
    ]
    assert Quote.objects.get(pk=ember.pk).status == "REJECTED"
    call, put, hedge = (Order.objects.get(pk=x.order_id) for x in straddle.legs.all())
    assert (call.filled_quantity, put.filled_quantity, call.status) == (D(45), D(45), "PARTIALLY_FILLED")
    assert hedge.filled_quantity == (hedge.quantity * 30 / 50).to_integral_value(rounding="ROUND_FLOOR")


def test_the_api_opens_a_package_rfq(api_client, trader, straddle, counterparties):
    r = api_client(trader).post(
        "/api/rfqs/", {"package": straddle.pk, "window_seconds": 30, "execution_mode": "ANY_PART_OF"}, format="json"
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["package"], body["execution_mode"], body["quantity"]) == (straddle.pk, "ANY_PART_OF", "50.00000000")
    assert [leg["instrument"] for leg in body["legs"]] == ["AAPL-270319-C-200", "AAPL-270319-P-200", "AAPL"]
    both = api_client(trader).post("/api/rfqs/", {"package": straddle.pk, "order": 1}, format="json")
    assert both.status_code == 400 and "order" in both.json()
    again = api_client(trader).post("/api/rfqs/", {"package": straddle.pk}, format="json")
    assert again.status_code == 409


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_clicks_book_one_whole_package(trader, straddle, counterparties):
    rfq = open_rfq(trader, straddle)
    base = (rfq.mid_at_open / D("0.05")).to_integral_value() * D("0.05")
    quotes = [quote(rfq, name, ask=base + D(off)) for name, off in [("Apex Markets", "0.2"), ("Birch Capital", "0.3")]]
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def click(quote_id):
        try:
            barrier.wait()
            result = services.rfq_execute(actor=trader, rfq_id=rfq.pk, quote_id=quote_id, now=at(2))
            outcomes.append("accepted" if result.accepted else "rejected")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(quotes[i % 2].pk,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["accepted"] + ["refused"] * 5
    assert RfqExecution.objects.filter(rfq=rfq).count() == 1
    for x in straddle.legs.all():
        o = Order.objects.get(pk=x.order_id)
        assert OrderFill.objects.filter(order=o).count() == 1 and o.filled_quantity == o.quantity


def test_pricing_of_a_single_instrument_rfq_is_unchanged(trader, order, counterparties):
    rfq = services.rfq_open(actor=trader, order_id=order.pk, now=at(0))
    assert pricing.rfq_scale(rfq) is None and pricing.implied_legs(rfq, D("190")) == []


def test_a_quotes_push_carries_the_rows_a_fresh_snapshot_shows(trader, straddle, counterparties):
    """The ladder delta pushed for a package quote has the same distance, bps of premium and
    implied leg prices as the row of a snapshot read at that moment."""
    rfq = open_rfq(trader, straddle)
    ask = (rfq.mid_at_open / D("0.05")).to_integral_value() * D("0.05") + D("0.55")
    q = quote(rfq, "Apex Markets", ask=ask, seconds=1.0)
    rfq.refresh_from_db()
    body, delta = selectors.ladder_delta(
        rfq, now=at(1), mid=pricing.rfq_mid(rfq), added=[(q, "Apex Markets")], removed=[], answered=[]
    )
    (pushed,) = delta["add"]
    (row,) = selectors.rfq_snapshot(rfq, now=at(1))["ladder"]
    assert pushed == row and body["mid"] == selectors.rfq_snapshot(rfq, now=at(1))["mid"]


def test_a_leg_is_quoted_alone_only_when_the_pm_allows_it(trader, pm, portfolio, aapl_chain, straddle, counterparties):
    call = straddle.legs.get(index=0).order
    with pytest.raises(Conflict, match="did not allow working a leg alone"):
        services.rfq_open(actor=trader, order_id=call.pk, now=at(0))
    hedge = straddle.legs.get(is_hedge=True).order  # the hedge is an ordinary order
    assert services.rfq_open(actor=trader, order_id=hedge.pk, now=at(0)).package_id is None
    allowed = package_submit(
        actor=pm,
        portfolio=portfolio,
        quantity=D(5),
        legs=[LegInput(aapl_chain["C210"], "BUY", D(1))],
        allow_leg_work=True,
    )
    leg = allowed.legs.get().order
    assert services.rfq_open(actor=trader, order_id=leg.pk, now=at(0)).order_id == leg.pk
