"""Each pre-trade rule: passes at the limit, breaches beyond it, and a breach stores the
order as REJECTED with its reasons."""

from decimal import Decimal as D

import pytest

from oms import services
from oms.domain import compliance
from oms.models import ComplianceRule, Order, Position


def draft(**kw):
    base = dict(
        symbol="AAPL",
        side="BUY",
        quantity=D(100),
        limit_price=None,
        reference_price=D("100"),
        tick_size=D("0.01"),
        lot_size=D("1"),
        multiplier=D("1"),
        position_quantity=D(0),
    )
    return compliance.OrderDraft(**{**base, **kw})


def rules(kind, limit=None):
    return [compliance.RuleConfig(kind=kind, limit=limit)]


def kinds(breaches):
    return [b.rule for b in breaches]


def test_restricted_instrument():
    assert kinds(compliance.evaluate(draft(), rules(compliance.RESTRICTED))) == [compliance.RESTRICTED]


def test_max_order_notional_uses_limit_price_and_multiplier():
    at_limit = draft(quantity=D(10), limit_price=D("100"), multiplier=D(100))  # 100,000
    assert compliance.evaluate(at_limit, rules(compliance.MAX_ORDER_NOTIONAL, D(100000))) == []
    over = draft(quantity=D(11), limit_price=D("100"), multiplier=D(100))
    (b,) = compliance.evaluate(over, rules(compliance.MAX_ORDER_NOTIONAL, D(100000)))
    assert (b.rule, b.limit, b.actual) == (compliance.MAX_ORDER_NOTIONAL, "100000", "110000")


def test_max_position_after_the_order():
    assert (
        compliance.evaluate(draft(quantity=D(50), position_quantity=D(950)), rules(compliance.MAX_POSITION, D(1000)))
        == []
    )
    (b,) = compliance.evaluate(draft(quantity=D(51), position_quantity=D(950)), rules(compliance.MAX_POSITION, D(1000)))
    assert b.actual == "1001"
    # a sell that reduces a too-large position passes
    assert (
        compliance.evaluate(
            draft(side="SELL", quantity=D(100), position_quantity=D(1050)), rules(compliance.MAX_POSITION, D(1000))
        )
        == []
    )


def test_price_collar():
    assert compliance.evaluate(draft(limit_price=D("110")), rules(compliance.PRICE_COLLAR, D(10))) == []
    (b,) = compliance.evaluate(draft(limit_price=D("110.01")), rules(compliance.PRICE_COLLAR, D(10)))
    assert (b.rule, b.actual) == (compliance.PRICE_COLLAR, "10.01")
    assert compliance.evaluate(draft(limit_price=None), rules(compliance.PRICE_COLLAR, D(1))) == []


def test_short_sell_needs_position_or_borrow():
    assert (
        compliance.evaluate(draft(side="SELL", quantity=D(100), position_quantity=D(100)), rules(compliance.SHORT_SELL))
        == []
    )
    (b,) = compliance.evaluate(
        draft(side="SELL", quantity=D(101), position_quantity=D(100)), rules(compliance.SHORT_SELL)
    )
    assert b.rule == compliance.SHORT_SELL
    # working sells use up the position too
    assert kinds(
        compliance.evaluate(
            draft(side="SELL", quantity=D(60), position_quantity=D(100), open_sell_quantity=D(50)),
            rules(compliance.SHORT_SELL),
        )
    ) == [compliance.SHORT_SELL]
    assert (
        compliance.evaluate(
            draft(side="SELL", quantity=D(500), position_quantity=D(0), borrow_allowed=True),
            rules(compliance.SHORT_SELL),
        )
        == []
    )


def test_lot_size():
    assert compliance.evaluate(draft(quantity=D("0.0003"), lot_size=D("0.0001")), rules(compliance.LOT_SIZE)) == []
    assert kinds(compliance.evaluate(draft(quantity=D("150"), lot_size=D("100")), rules(compliance.LOT_SIZE))) == [
        compliance.LOT_SIZE
    ]


def test_tick_size():
    assert compliance.evaluate(draft(limit_price=D("100.05"), tick_size=D("0.05")), rules(compliance.TICK_SIZE)) == []
    assert kinds(
        compliance.evaluate(draft(limit_price=D("100.03"), tick_size=D("0.05")), rules(compliance.TICK_SIZE))
    ) == [compliance.TICK_SIZE]


def test_all_breaches_are_reported_together():
    every = [compliance.RuleConfig(kind=k, limit=D(1)) for k in compliance.RULE_KINDS]
    got = compliance.evaluate(draft(side="SELL", quantity=D("2.5"), limit_price=D("150.001"), adv=D(100)), every)
    assert set(kinds(got)) == set(compliance.RULE_KINDS)


# --- through the service, scoped rules from the database ------------------------------


@pytest.fixture
def rulebook(portfolio, aapl):
    ComplianceRule.objects.create(kind=compliance.LOT_SIZE)
    ComplianceRule.objects.create(kind=compliance.TICK_SIZE)
    ComplianceRule.objects.create(kind=compliance.SHORT_SELL)
    ComplianceRule.objects.create(kind=compliance.PRICE_COLLAR, limit=D(5))
    ComplianceRule.objects.create(kind=compliance.MAX_ORDER_NOTIONAL, portfolio=portfolio, limit=D(1000000))
    ComplianceRule.objects.create(kind=compliance.MAX_POSITION, instrument=aapl, limit=D(10000))


def submit(pm, portfolio, instrument, **kw):
    args = dict(side="BUY", quantity=D(100), urgency="LOW")
    return services.order_submit(actor=pm, portfolio=portfolio, instrument=instrument, **{**args, **kw})


def test_clean_order_is_accepted_with_events(pm, portfolio, aapl, rulebook):
    order = submit(pm, portfolio, aapl)
    assert order.status == "ACCEPTED" and order.rejection_reasons == []
    assert [(e.event, e.from_status, e.to_status) for e in order.events.all()] == [
        ("SUBMIT", "", "NEW"),
        ("ACCEPT", "NEW", "ACCEPTED"),
    ]
    assert order.arrival_price == D("190.00")


@pytest.mark.parametrize(
    ("kw", "rule"),
    [
        ({"quantity": D(6000)}, compliance.MAX_ORDER_NOTIONAL),  # 6000 x 190 > 1,000,000
        ({"limit_price": D("250.00")}, compliance.PRICE_COLLAR),
        ({"limit_price": D("190.005")}, compliance.TICK_SIZE),
        ({"quantity": D("10.5")}, compliance.LOT_SIZE),
        ({"side": "SELL"}, compliance.SHORT_SELL),
    ],
)
def test_each_breach_rejects_and_stores_reasons(pm, portfolio, aapl, rulebook, kw, rule):
    order = submit(pm, portfolio, aapl, **kw)
    order.refresh_from_db()
    assert order.status == "REJECTED"
    assert rule in [r["rule"] for r in order.rejection_reasons]
    assert set(order.rejection_reasons[0]) == {"rule", "message", "limit", "actual", "soft"}
    assert order.events.last().to_status == "REJECTED"


def test_max_position_counts_the_holding(pm, portfolio, aapl, rulebook):
    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D(9950), average_cost=D(100))
    assert submit(pm, portfolio, aapl, quantity=D(50)).status == "ACCEPTED"
    rejected = submit(pm, portfolio, aapl, quantity=D(51))
    assert rejected.status == "REJECTED"
    assert [r["rule"] for r in rejected.rejection_reasons] == [compliance.MAX_POSITION]


def test_restricted_rule_scoped_to_an_instrument(pm, portfolio, aapl, btc):
    ComplianceRule.objects.create(kind=compliance.RESTRICTED, instrument=btc)
    assert submit(pm, portfolio, aapl).status == "ACCEPTED"
    assert submit(pm, portfolio, btc, quantity=D("0.5")).status == "REJECTED"


def test_disabled_rule_does_not_apply(pm, portfolio, aapl):
    ComplianceRule.objects.create(kind=compliance.RESTRICTED, instrument=aapl, enabled=False)
    assert submit(pm, portfolio, aapl).status == "ACCEPTED"


def test_rule_scoped_to_another_portfolio_does_not_apply(pm, portfolio, portfolio2, aapl):
    ComplianceRule.objects.create(kind=compliance.MAX_ORDER_NOTIONAL, portfolio=portfolio2, limit=D(1))
    assert submit(pm, portfolio, aapl).status == "ACCEPTED"


def test_short_sell_sees_the_position(pm, portfolio, aapl, rulebook):
    Position.objects.create(portfolio=portfolio, instrument=aapl, quantity=D(300), average_cost=D(100))
    assert submit(pm, portfolio, aapl, side="SELL", quantity=D(200)).status == "ACCEPTED"
    # 200 already working: only 100 more may be sold
    assert submit(pm, portfolio, aapl, side="SELL", quantity=D(101)).status == "REJECTED"


def test_preview_stores_nothing(pm, portfolio, aapl, rulebook):
    breaches = services.order_preview(portfolio=portfolio, instrument=aapl, side="BUY", quantity=D(6000))
    assert [b.rule for b in breaches] == [compliance.MAX_ORDER_NOTIONAL]
    assert Order.objects.count() == 0


def test_client_order_id_makes_submission_idempotent(pm, portfolio, aapl):
    first = submit(pm, portfolio, aapl, client_order_id="abc-1")
    again = submit(pm, portfolio, aapl, client_order_id="abc-1")
    assert first.pk == again.pk and Order.objects.count() == 1


def test_client_order_id_reused_with_other_terms_is_a_conflict(pm, portfolio, aapl):
    from core.errors import Conflict

    submit(pm, portfolio, aapl, client_order_id="abc-2", limit_price=D("190.00"))
    with pytest.raises(Conflict):
        submit(pm, portfolio, aapl, client_order_id="abc-2", quantity=D(200))
    with pytest.raises(Conflict):
        submit(pm, portfolio, aapl, client_order_id="abc-2", limit_price=D("190.00"), urgency="HIGH")
    assert submit(pm, portfolio, aapl, client_order_id="abc-2", limit_price=D("190.0")).quantity == D(100)
    assert Order.objects.count() == 1


# --- fat finger: soft limits ask for confirmation, hard limits reject -------------------


def test_fat_finger_rules_in_percent_of_adv():
    big = draft(quantity=D(3000), adv=D(10000))  # 30% of ADV
    soft = compliance.evaluate(big, rules(compliance.FAT_FINGER_SOFT, D(25)))
    assert [(b.rule, b.soft, b.limit, b.actual) for b in soft] == [(compliance.FAT_FINGER_SOFT, True, "25", "30")]
    assert soft[0].message == (
        "3,000 AAPL is 30% of its average daily volume (notional 300,000.00), "
        "above the 25% soft limit: confirm to enter it"
    )
    hard = compliance.evaluate(big, rules(compliance.FAT_FINGER_HARD, D("29.5")))
    assert [(b.rule, b.soft) for b in hard] == [(compliance.FAT_FINGER_HARD, False)]
    assert compliance.evaluate(big, rules(compliance.FAT_FINGER_HARD, D(30))) == []
    assert compliance.evaluate(draft(adv=None), rules(compliance.FAT_FINGER_HARD, D(1))) == []


def test_collar_message_reads_as_percent():
    got = compliance.evaluate(draft(limit_price=D("112.5")), rules(compliance.PRICE_COLLAR, D("10.00000000")))
    assert got[0].message == "limit 112.5 is 12.5% from the reference 100 (collar 10%)"
    assert (got[0].limit, got[0].actual) == ("10", "12.5")


@pytest.fixture
def fat_finger(db, aapl):
    ComplianceRule.objects.create(kind=compliance.FAT_FINGER_SOFT, limit=D(1))  # 1% of ADV
    ComplianceRule.objects.create(kind=compliance.FAT_FINGER_HARD, limit=D(10))
    return aapl  # ADV 55,000,000


@pytest.mark.django_db
def test_soft_limit_asks_for_confirmation_and_stores_nothing(api_client, pm, portfolio, fat_finger):
    body = {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "1100000"}  # 2% of ADV
    preview = api_client(pm).post("/api/orders/preview/", body, format="json").json()
    assert (preview["passes"], preview["needs_confirmation"]) == (False, True)
    r = api_client(pm).post("/api/orders/", body, format="json")
    assert r.status_code == 400 and list(r.json()) == ["confirm"]
    assert r.json()["confirm"][0].startswith("Confirm to enter this order: 1,100,000 AAPL is 2% of its average daily")
    assert Order.objects.count() == 0
    r = api_client(pm).post("/api/orders/", {**body, "confirm": True}, format="json")
    assert (r.status_code, r.json()["status"], r.json()["rejection_reasons"]) == (201, "ACCEPTED", [])
    accept = Order.objects.get().events.get(event="ACCEPT")
    assert accept.reason.startswith("passed pre-trade compliance; confirmed by the user: 1,100,000 AAPL is 2%")


@pytest.mark.django_db
def test_hard_limit_rejects_even_when_confirmed(api_client, pm, portfolio, fat_finger):
    body = {"portfolio": portfolio.pk, "instrument": "AAPL", "side": "BUY", "quantity": "6000000", "confirm": True}
    r = api_client(pm).post("/api/orders/", body, format="json")
    assert (r.status_code, r.json()["status"]) == (201, "REJECTED")
    assert [b["rule"] for b in r.json()["rejection_reasons"]] == [compliance.FAT_FINGER_HARD]
