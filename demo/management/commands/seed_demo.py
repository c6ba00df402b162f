"""Demo data, idempotent: users and roles, venues, instruments, portfolios with positions,
and compliance limits that let the demo PM trade up to 30% of ADV on every instrument."""
from datetime import date
from decimal import Decimal as D

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.decimals import to_step
from marketdata.models import Instrument, Venue
from marketdata.services import market_history_seed
from accounts import roles
from oms.domain import compliance
from oms.models import ComplianceRule, Portfolio, Position

USERS = [("pm", roles.PM), ("pm2", roles.PM), ("trader", roles.TRADER), ("admin", roles.ADMIN)]

VENUES = [
    # name, kind, maker bps, taker bps, latency ms, min qty, spread x, depth x, dark fill rate
    ("NEXA", "LIT", "-2.0", "3.0", "0.8", "0", "1.0", "1.4", "0"),
    ("LUMA", "LIT", "-1.0", "2.2", "1.1", "0", "1.1", "1.0", "0"),
    ("ORBIT", "LIT", "0.5", "1.2", "1.6", "0", "1.3", "0.6", "0"),
    ("UMBRA", "DARK", "1.0", "1.0", "2.0", "100", "1", "1", "0.30"),
    ("SHADE", "DARK", "0.8", "0.8", "2.5", "500", "1", "1", "0.18"),
    ("QUOTEX", "RFQ", "0", "0.5", "150", "0", "1", "1", "0"),
]

# symbol, name, class, tick, lot, reference price, multiplier, ADV, daily vol, spread bps
UNDERLYINGS = [
    ("AAPL", "Apple Inc.", "EQUITY", "0.01", "1", "190.00", "1", "55000000", "0.016", "1.2"),
    ("MSFT", "Microsoft Corp.", "EQUITY", "0.01", "1", "415.00", "1", "22000000", "0.015", "1.0"),
    ("NVDA", "NVIDIA Corp.", "EQUITY", "0.01", "1", "120.00", "1", "180000000", "0.030", "1.5"),
    ("JPM", "JPMorgan Chase & Co.", "EQUITY", "0.01", "1", "205.00", "1", "9000000", "0.014", "1.8"),
    ("TSLA", "Tesla Inc.", "EQUITY", "0.01", "1", "250.00", "1", "95000000", "0.035", "2.0"),
    ("BTC-USD", "Bitcoin", "CRYPTO", "0.01", "0.0001", "95000.00", "1", "25000", "0.030", "2.0"),
    ("ETH-USD", "Ether", "CRYPTO", "0.01", "0.001", "3400.00", "1", "300000", "0.040", "3.0"),
]
# symbol, underlying, right, strike, expiry, tick, lot, reference (today's model price replaces it),
# multiplier, ADV (contracts), vol, spread bps
OPTIONS = [
    ("AAPL-270319-C-200", "AAPL", "C", "200", date(2027, 3, 19), "0.05", "1", "6.85", "100", "8000", "0.045", "150"),
    ("MSFT-270319-P-400", "MSFT", "P", "400", date(2027, 3, 19), "0.05", "1", "15.10", "100", "3000", "0.040", "120"),
    ("BTC-270326-C-100000", "BTC-USD", "C", "100000", date(2027, 3, 26), "5", "0.1", "10535", "1", "600", "0.060", "300"),
]
RESTRICTED_SYMBOLS = ["TSLA"]

PORTFOLIOS = [
    ("pm", "Global Equity Alpha", "500000000", [("AAPL", "200000", "180.00"), ("MSFT", "50000", "400.00"),
                                                 ("BTC-USD", "100", "90000.00")]),
    ("pm", "Digital Assets & Volatility", "200000000", [("ETH-USD", "2000", "3100.00"), ("BTC-USD", "50", "88000.00")]),
    ("pm2", "Tech Growth", "300000000", [("NVDA", "500000", "100.00"), ("JPM", "40000", "190.00")]),
]
MAX_ORDER_NOTIONAL = D("10000000000")  # covers 30% of ADV of the largest demo instrument
ADV_POSITION_FRACTION = D("0.35")
PRICE_COLLAR_PERCENT = D("10")


def _model_price(option: Instrument) -> D:
    """Today's option reference price from the same model the simulator quotes with, so
    "change" on the market page means the market moved, not that two models disagree."""
    from marketdata.sim import SimParams
    from marketdata.sim.pricing import black_scholes

    underlying = option.underlying
    years = max((option.expiry - timezone.now().date()).days, 1) / 365.0
    vol = float(underlying.daily_volatility) * SimParams().trading_days_per_year ** 0.5
    value = black_scholes(float(underlying.reference_price), float(option.strike), years, vol, option.option_right == "C")
    return to_step(D(repr(float(value))), option.tick_size)


class Command(BaseCommand):
    help = "Create or refresh the demo users, venues, instruments, portfolios and limits (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--without-history", action="store_true",
                            help="Skip the simulated market history (analytics keep the seeded figures).")

    @transaction.atomic
    def handle(self, *args, without_history=False, **options):
        password = settings.DEMO_PASSWORD
        users = {}
        for username, role in USERS:
            group, _ = Group.objects.get_or_create(name=role)
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = role == roles.ADMIN
            user.is_superuser = role == roles.ADMIN
            user.save()
            user.groups.set([group])
            users[username] = user

        for name, kind, maker, taker, latency, min_qty, spread, depth, fill_rate in VENUES:
            Venue.objects.update_or_create(name=name, defaults=dict(
                kind=kind, maker_fee_bps=D(maker), taker_fee_bps=D(taker), latency_ms=D(latency), min_quantity=D(min_qty),
                spread_multiplier=D(spread), depth_multiplier=D(depth), dark_fill_rate=D(fill_rate)))

        instruments = {}
        for symbol, name, klass, tick, lot, ref, mult, adv, vol, spread in UNDERLYINGS:
            instruments[symbol], _ = Instrument.objects.update_or_create(symbol=symbol, defaults=dict(
                name=name, asset_class=klass, tick_size=D(tick), lot_size=D(lot), reference_price=D(ref),
                multiplier=D(mult), adv=D(adv), daily_volatility=D(vol), avg_spread_bps=D(spread)))
        for symbol, under, right, strike, expiry, tick, lot, ref, mult, adv, vol, spread in OPTIONS:
            instruments[symbol], _ = Instrument.objects.update_or_create(symbol=symbol, defaults=dict(
                name=f"{under} {expiry:%d %b %Y} {strike} {'Call' if right == 'C' else 'Put'}", asset_class="OPTION",
                underlying=instruments[under], option_right=right, strike=D(strike), expiry=expiry, tick_size=D(tick),
                lot_size=D(lot), reference_price=D(ref), multiplier=D(mult), adv=D(adv), daily_volatility=D(vol),
                avg_spread_bps=D(spread)))

        portfolios = []
        for owner, name, cash, holdings in PORTFOLIOS:
            portfolio, created = Portfolio.objects.get_or_create(owner=users[owner], name=name, defaults={"cash": D(cash)})
            portfolios.append(portfolio)
            if created:  # opening holdings only once: later runs must not undo trading
                for symbol, qty, cost in holdings:
                    Position.objects.create(portfolio=portfolio, instrument=instruments[symbol], quantity=D(qty),
                                            average_cost=D(cost))

        def rule(kind, *, portfolio=None, instrument=None, limit=None, name=""):
            ComplianceRule.objects.update_or_create(kind=kind, portfolio=portfolio, instrument=instrument,
                                                    defaults={"limit": limit, "name": name, "enabled": True})

        rule(compliance.LOT_SIZE, name="Quantity in whole lots")
        rule(compliance.TICK_SIZE, name="Limit price on the tick grid")
        rule(compliance.SHORT_SELL, name="No naked short sales")
        rule(compliance.PRICE_COLLAR, limit=PRICE_COLLAR_PERCENT, name="Limit within 10% of reference")
        for portfolio in portfolios:
            rule(compliance.MAX_ORDER_NOTIONAL, portfolio=portfolio, limit=MAX_ORDER_NOTIONAL,
                 name=f"Max order notional for {portfolio.name}")
        for instrument in instruments.values():
            rule(compliance.MAX_POSITION, instrument=instrument, limit=(instrument.adv * ADV_POSITION_FRACTION),
                 name=f"Max position in {instrument.symbol}: 35% of ADV")
        for symbol in RESTRICTED_SYMBOLS:
            rule(compliance.RESTRICTED, instrument=instruments[symbol], name=f"{symbol} restricted")

        # Analytics come from data: simulated sessions for the days that have none, then a refresh.
        if not without_history:
            market_history_seed()
        for symbol, *_ in OPTIONS:
            option = Instrument.objects.select_related("underlying").get(symbol=symbol)
            option.reference_price = _model_price(option)
            option.save(update_fields=["reference_price"])

        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: users {', '.join(u for u, _ in USERS)} with password '{password}'; "
            f"{len(instruments)} instruments, {len(VENUES)} venues, {len(portfolios)} portfolios."))
