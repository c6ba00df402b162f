"""Demo data, idempotent: users and roles, venues, instruments, portfolios with positions,
compliance limits that let the demo PM trade up to 30% of ADV on every instrument, and the
router's default selection rules. The data lives here; each app's seed service writes it."""

from datetime import date
from decimal import Decimal as D

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles
from accounts.services import user_with_role_ensure
from fix.services import DEMO_SENDER, fix_session_ensure
from marketdata.services import instruments_seed, market_history_seed, option_reference_prices_refresh, venues_seed
from oms.domain import compliance
from oms.services import compliance_rule_ensure, portfolio_seed
from rfq.services import counterparties_seed
from sor.services import selection_rules_seed

USERS = [("pm", roles.PM), ("pm2", roles.PM), ("trader", roles.TRADER), ("admin", roles.ADMIN)]

VENUE_COLUMNS = (
    "name",
    "kind",
    "maker_fee_bps",
    "taker_fee_bps",
    "latency_ms",
    "min_quantity",
    "spread_multiplier",
    "depth_multiplier",
    "dark_fill_rate",
)
VENUES = [
    ("NEXA", "LIT", "-2.0", "3.0", "0.8", "0", "1.0", "1.4", "0"),
    ("LUMA", "LIT", "-1.0", "2.2", "1.1", "0", "1.1", "1.0", "0"),
    ("ORBIT", "LIT", "0.5", "1.2", "1.6", "0", "1.3", "0.6", "0"),
    ("UMBRA", "DARK", "1.0", "1.0", "2.0", "100", "1", "1", "0.30"),
    ("SHADE", "DARK", "0.8", "0.8", "2.5", "500", "1", "1", "0.18"),
    ("QUOTEX", "RFQ", "0", "0.5", "150", "0", "1", "1", "0"),
]

UNDERLYING_COLUMNS = (
    "symbol",
    "name",
    "asset_class",
    "tick_size",
    "lot_size",
    "reference_price",
    "multiplier",
    "adv",
    "daily_volatility",
    "avg_spread_bps",
)
UNDERLYINGS = [
    ("AAPL", "Apple Inc.", "EQUITY", "0.01", "1", "190.00", "1", "55000000", "0.016", "1.2"),
    ("MSFT", "Microsoft Corp.", "EQUITY", "0.01", "1", "415.00", "1", "22000000", "0.015", "1.0"),
    ("NVDA", "NVIDIA Corp.", "EQUITY", "0.01", "1", "120.00", "1", "180000000", "0.030", "1.5"),
    ("JPM", "JPMorgan Chase & Co.", "EQUITY", "0.01", "1", "205.00", "1", "9000000", "0.014", "1.8"),
    ("TSLA", "Tesla Inc.", "EQUITY", "0.01", "1", "250.00", "1", "95000000", "0.035", "2.0"),
    ("BTC-USD", "Bitcoin", "CRYPTO", "0.01", "0.0001", "95000.00", "1", "25000", "0.030", "2.0"),
    ("ETH-USD", "Ether", "CRYPTO", "0.01", "0.001", "3400.00", "1", "300000", "0.040", "3.0"),
]
# The reference price is a placeholder: today's model price replaces it.
OPTION_COLUMNS = (
    "symbol",
    "underlying",
    "option_right",
    "strike",
    "expiry",
    "tick_size",
    "lot_size",
    "reference_price",
    "multiplier",
    "adv",
    "daily_volatility",
    "avg_spread_bps",
)
OPTIONS = [
    ("AAPL-270319-C-200", "AAPL", "C", "200", date(2027, 3, 19), "0.05", "1", "6.85", "100", "8000", "0.045", "150"),
    # The rest of an AAPL chain, so the PM's package templates have legs: a straddle (C/P 200),
    # strangle and risk reversal (P 180, C 210), vertical spread and butterfly (C 190/200/210),
    # calendar (C 200, March and June).
    ("AAPL-270319-P-200", "AAPL", "P", "200", date(2027, 3, 19), "0.05", "1", "15.00", "100", "7000", "0.045", "150"),
    ("AAPL-270319-C-190", "AAPL", "C", "190", date(2027, 3, 19), "0.05", "1", "10.00", "100", "6000", "0.045", "150"),
    ("AAPL-270319-C-210", "AAPL", "C", "210", date(2027, 3, 19), "0.05", "1", "4.00", "100", "6000", "0.045", "150"),
    ("AAPL-270319-P-180", "AAPL", "P", "180", date(2027, 3, 19), "0.05", "1", "6.00", "100", "5000", "0.045", "150"),
    ("AAPL-270618-C-200", "AAPL", "C", "200", date(2027, 6, 18), "0.05", "1", "9.00", "100", "4000", "0.045", "150"),
    ("MSFT-270319-P-400", "MSFT", "P", "400", date(2027, 3, 19), "0.05", "1", "15.10", "100", "3000", "0.040", "120"),
    (
        "BTC-270326-C-100000",
        "BTC-USD",
        "C",
        "100000",
        date(2027, 3, 26),
        "5",
        "0.1",
        "10535",
        "1",
        "600",
        "0.060",
        "300",
    ),
]
RESTRICTED_SYMBOLS = ["TSLA"]

# RFQ liquidity providers: each connection is a simulated profile (marketdata.sim.liquidity_providers).
COUNTERPARTY_COLUMNS = ("name", "connection", "asset_classes", "tier", "max_notional", "notes")
COUNTERPARTIES = [
    ("Apex Markets", "tight_fast", ["EQUITY", "OPTION", "CRYPTO"], 1, "500000000", "Tight and fast"),
    ("Birch Capital", "wide_slow", ["EQUITY", "OPTION"], 2, "200000000", "Wide and slow"),
    ("Cobalt Trading", "skewed", ["EQUITY", "CRYPTO"], 2, "150000000", "Skews its quotes"),
    ("Dune Liquidity", "often_passes", ["EQUITY", "OPTION"], 3, "50000000", "Often passes"),
    ("Ember Securities", "last_look", ["EQUITY", "OPTION", "CRYPTO"], 1, "300000000", "Rejects on last look"),
    ("Fjord Partners", "tight_fast", ["EQUITY", "CRYPTO"], 2, "250000000", ""),
]

PORTFOLIOS = [
    (
        "pm",
        "Global Equity Alpha",
        "500000000",
        [
            ("AAPL", "200000", "180.00"),
            ("MSFT", "50000", "400.00"),
            ("NVDA", "300000", "105.00"),
            ("BTC-USD", "100", "90000.00"),
        ],
    ),
    ("pm", "Digital Assets & Volatility", "200000000", [("ETH-USD", "2000", "3100.00"), ("BTC-USD", "50", "88000.00")]),
    ("pm2", "Tech Growth", "300000000", [("NVDA", "500000", "100.00"), ("JPM", "40000", "190.00")]),
]
MAX_ORDER_NOTIONAL = D("10000000000")  # covers 30% of ADV of the largest demo instrument
ADV_POSITION_FRACTION = D("0.35")
PRICE_COLLAR_PERCENT = D("10")


class Command(BaseCommand):
    help = "Create or refresh the demo users, venues, instruments, portfolios, limits and router rules (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--without-history",
            action="store_true",
            help="Skip the simulated market history (analytics keep the seeded figures).",
        )

    @transaction.atomic
    def handle(self, *args, without_history=False, **options):
        password = settings.DEMO_PASSWORD
        if not password:
            raise CommandError("set DEMO_PASSWORD: production has no default demo password")
        users = {
            username: user_with_role_ensure(username=username, role=role, password=password) for username, role in USERS
        }
        venues_seed(rows=[dict(zip(VENUE_COLUMNS, row, strict=True)) for row in VENUES])
        instruments = instruments_seed(
            rows=[
                *(dict(zip(UNDERLYING_COLUMNS, row, strict=True)) for row in UNDERLYINGS),
                *(_option_row(row) for row in OPTIONS),
            ]
        )
        portfolios = [
            portfolio_seed(
                owner=users[owner],
                name=name,
                cash=D(cash),
                holdings=[(instruments[symbol], D(qty), D(cost)) for symbol, qty, cost in holdings],
            )
            for owner, name, cash, holdings in PORTFOLIOS
        ]

        compliance_rule_ensure(kind=compliance.LOT_SIZE, name="Quantity in whole lots")
        compliance_rule_ensure(kind=compliance.TICK_SIZE, name="Limit price on the tick grid")
        compliance_rule_ensure(kind=compliance.SHORT_SELL, name="No naked short sales")
        compliance_rule_ensure(
            kind=compliance.PRICE_COLLAR, limit=PRICE_COLLAR_PERCENT, name="Limit within 10% of reference"
        )
        for portfolio in portfolios:
            compliance_rule_ensure(
                kind=compliance.MAX_ORDER_NOTIONAL,
                portfolio=portfolio,
                limit=MAX_ORDER_NOTIONAL,
                name=f"Max order notional for {portfolio.name}",
            )
        for instrument in instruments.values():
            compliance_rule_ensure(
                kind=compliance.MAX_POSITION,
                instrument=instrument,
                limit=instrument.adv * ADV_POSITION_FRACTION,
                name=f"Max position in {instrument.symbol}: 35% of ADV",
            )
        for symbol in RESTRICTED_SYMBOLS:
            compliance_rule_ensure(
                kind=compliance.RESTRICTED, instrument=instruments[symbol], name=f"{symbol} restricted"
            )
        selection_rules_seed()
        # The demo FIX session (README: FIX): DEMOCLIENT logs on as pm, into pm's first portfolio.
        pm_first = next(p for p in portfolios if p.owner == users["pm"])
        fix_session_ensure(sender_comp_id=DEMO_SENDER, user=users["pm"], portfolio=pm_first)
        counterparties_seed(rows=[dict(zip(COUNTERPARTY_COLUMNS, row, strict=True)) for row in COUNTERPARTIES])

        # Analytics come from data: simulated sessions for the days that have none, then a refresh;
        # option reference prices from the model the simulator quotes with.
        if not without_history:
            market_history_seed()
        option_reference_prices_refresh()

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: users {', '.join(u for u, _ in USERS)} with password '{password}'; "
                f"{len(instruments)} instruments, {len(VENUES)} venues, {len(portfolios)} portfolios."
            )
        )


def _option_row(row: tuple) -> dict:
    values = dict(zip(OPTION_COLUMNS, row, strict=True))
    right = "Call" if values["option_right"] == "C" else "Put"
    values["name"] = f"{values['underlying']} {values['expiry']:%d %b %Y} {values['strike']} {right}"
    return {**values, "asset_class": "OPTION"}
