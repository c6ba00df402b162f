"""Simulated liquidity providers answering requests for quotes. Pure and seeded: the same
request to the same provider with the same seed gives the same answer.

A provider prices around the simulator's mid with a half-spread that widens with the size
(as a fraction of ADV) and the volatility, skews it if its book leans one way, answers after
its latency, may pass, may update its quote once or withdraw it, and applies a last look at
execution: it rejects when the mid moved against it beyond its tolerance, and some providers
reject a share of the trades anyway.

Prices are floats here (offsets in bps from the mid); the Django side rounds to the tick."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class LPProfile:
    name: str
    base_half_spread_bps: float  # at zero size, one unit of volatility
    size_bps_per_adv_pct: float  # extra half-spread per 1% of ADV
    vol_reference: float  # daily volatility at which the base spread applies
    latency_seconds: tuple[float, float]  # uniform range of the first answer's delay
    pass_probability: float
    skew_bps: float  # + shifts both prices up (the provider would rather sell)
    validity_seconds: float
    update_probability: float  # re-quotes once, a little tighter
    withdraw_probability: float  # pulls its quote before it expires
    last_look_tolerance_bps: float  # rejects when the mid moved against it further than this
    last_look_reject_probability: float  # rejects anyway, this often
    # Packages (several option legs quoted as one net price per package unit):
    vega_charge_points: float = 0.25  # half-spread in vol points of the package's gross vega, at zero size
    package_size_share: float = 1.0  # share of the size it quotes when parts may be filled (ANY_PART_OF)
    takes_hedge: bool = True  # trades the delta hedge at its reference price of the underlying


PROFILES: Final[dict[str, LPProfile]] = {
    p.name: p
    for p in (
        LPProfile("tight_fast", 2.0, 0.8, 0.016, (0.05, 0.25), 0.02, 0.0, 4.0, 0.35, 0.0, 8.0, 0.0, 0.15, 0.6, True),
        LPProfile("wide_slow", 7.0, 1.5, 0.016, (0.8, 2.0), 0.05, 0.0, 6.0, 0.0, 0.10, 15.0, 0.0, 0.5, 1.0, False),
        LPProfile("skewed", 3.5, 1.0, 0.016, (0.2, 0.8), 0.05, 2.5, 5.0, 0.15, 0.0, 8.0, 0.0, 0.3, 0.8, True),
        LPProfile("often_passes", 3.0, 1.0, 0.016, (0.3, 1.0), 0.6, 0.0, 5.0, 0.0, 0.0, 8.0, 0.0, 0.3, 1.0, True),
        LPProfile("last_look", 1.5, 0.6, 0.016, (0.1, 0.4), 0.02, 0.0, 3.0, 0.0, 0.0, 1.0, 0.5, 0.1, 0.5, True),
    )
}


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """What a provider learns: never who asks, never who else is asked."""

    key: str  # an opaque request token, unique per provider and request
    symbol: str
    quantity: float
    side: str | None  # the client's side, None in two-way mode
    mid: float
    adv: float
    daily_volatility: float
    window_seconds: float


@dataclass(frozen=True, slots=True)
class PackageQuoteRequest:
    """A package as a provider learns it: legs and ratios (in `key`'s message), the size in
    package units, the side unless two-way, and what it prices from: the package's model mid
    per unit, its gross premium (the sum of ratio times leg value) and gross vega (the sum of
    ratio times |vega| per vol point), and the largest leg's share of its ADV in percent."""

    key: str
    quantity: float
    side: str | None
    model_mid: float
    gross_premium: float
    gross_vega: float
    adv_pct: float
    window_seconds: float
    parts_allowed: bool = False  # ANY_PART_OF: a part of the size may be quoted
    min_trade_quantity: float = 0.0
    hedge: bool = False  # a delta hedge in the underlying goes with the package


def package_half_spread(profile: LPProfile, request: PackageQuoteRequest) -> float:
    """Half the spread of a package's net price, in currency per package unit: a share of its
    gross premium (the provider's base spread, in bps, times 25: options are quoted wider than
    their underlying) plus a vega charge in vol points; both widen with size.

        half = (gross_premium * base_bps * 25 / 1e4 + gross_vega * vega_charge_points)
               * (1 + size_bps_per_adv_pct * adv_pct / 100)"""
    widen = 1.0 + profile.size_bps_per_adv_pct * max(request.adv_pct, 0.0) / 100.0
    premium_part = abs(request.gross_premium) * profile.base_half_spread_bps * 25.0 / 1e4
    vega_part = abs(request.gross_vega) * profile.vega_charge_points
    return (premium_part + vega_part) * widen


@dataclass(frozen=True, slots=True)
class ProviderAction:
    """One thing the provider does, `at` seconds after it received the request."""

    at: float
    kind: str  # QUOTE, UPDATE, WITHDRAW or PASS
    bid_offset_bps: float = 0.0  # below the mid at the time of the action
    ask_offset_bps: float = 0.0  # above the mid
    size: float = 0.0
    validity_seconds: float = 0.0
    # Packages: offsets in currency per package unit from the model mid, and the hedge.
    bid_offset: float = 0.0
    ask_offset: float = 0.0
    takes_hedge: bool = False


QUOTE, UPDATE, WITHDRAW, PASS = "QUOTE", "UPDATE", "WITHDRAW", "PASS"


def rng_for(seed: int, *parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def half_spread_bps(profile: LPProfile, request: QuoteRequest) -> float:
    """Wider with size (share of ADV) and with volatility."""
    adv_pct = 100.0 * request.quantity / request.adv if request.adv > 0 else 100.0
    vol_factor = max(request.daily_volatility, 1e-6) / profile.vol_reference
    return (profile.base_half_spread_bps + profile.size_bps_per_adv_pct * adv_pct) * vol_factor


@dataclass(slots=True)
class SimulatedProvider:
    profile: LPProfile
    seed: int = 0

    def plan(self, request: QuoteRequest) -> list[ProviderAction]:
        """Everything this provider will do about `request`, in time order, all within the window."""
        p, rng = self.profile, rng_for(self.seed, self.profile.name, request.key)
        first = rng.uniform(*p.latency_seconds)
        if first >= request.window_seconds:
            return []  # too slow: no answer within the window
        if rng.random() < p.pass_probability:
            return [ProviderAction(first, PASS)]
        half = half_spread_bps(p, request) * rng.uniform(0.85, 1.15)
        actions = [
            ProviderAction(first, QUOTE, half - p.skew_bps, half + p.skew_bps, request.quantity, p.validity_seconds)
        ]
        later = first + rng.uniform(0.5, 2.0)
        if later < request.window_seconds and rng.random() < p.update_probability:
            tighter = half * 0.85
            actions.append(
                ProviderAction(
                    later, UPDATE, tighter - p.skew_bps, tighter + p.skew_bps, request.quantity, p.validity_seconds
                )
            )
        elif later < min(request.window_seconds, first + p.validity_seconds) and rng.random() < p.withdraw_probability:
            actions.append(ProviderAction(later, WITHDRAW))
        return actions

    def plan_package(self, request: PackageQuoteRequest) -> list[ProviderAction]:
        """Everything this provider will do about a package request: the timing, passes and
        updates of `plan`, priced as one net price per package unit around the package's
        model mid with `package_half_spread`; the whole size unless parts may be filled."""
        p, rng = self.profile, rng_for(self.seed, self.profile.name, request.key)
        first = rng.uniform(*p.latency_seconds)
        if first >= request.window_seconds:
            return []
        if rng.random() < p.pass_probability:
            return [ProviderAction(first, PASS)]
        half = package_half_spread(p, request) * rng.uniform(0.85, 1.15)
        size = request.quantity
        if request.parts_allowed and p.package_size_share < 1.0:
            size = max(float(int(request.quantity * p.package_size_share)), request.min_trade_quantity, 1.0)
            size = min(size, request.quantity)
        hedge = request.hedge and p.takes_hedge

        def act(at: float, kind: str, h: float) -> ProviderAction:
            return ProviderAction(
                at, kind, size=size, validity_seconds=p.validity_seconds, bid_offset=h, ask_offset=h, takes_hedge=hedge
            )

        actions = [act(first, QUOTE, half)]
        later = first + rng.uniform(0.5, 2.0)
        if later < request.window_seconds and rng.random() < p.update_probability:
            actions.append(act(later, UPDATE, half * 0.85))
        elif later < min(request.window_seconds, first + p.validity_seconds) and rng.random() < p.withdraw_probability:
            actions.append(ProviderAction(later, WITHDRAW))
        return actions

    def last_look(
        self, *, key: str, client_side: str, quoted_price: float, mid_now: float, scale: float | None = None
    ) -> bool:
        """True to accept the trade at `quoted_price` given the mid now. `scale`: what a move
        is measured against in bps (a package's gross premium; default the mid)."""
        p = self.profile
        base = mid_now if scale is None else scale
        if base > 0:
            # Against the provider: the client buys and the mid rose above the price, or sells and it fell.
            moved = (mid_now - quoted_price) if client_side == "BUY" else (quoted_price - mid_now)
            if moved / base * 1e4 > p.last_look_tolerance_bps:
                return False
        return rng_for(self.seed, p.name, key, "last-look").random() >= p.last_look_reject_probability


def provider(name: str, seed: int = 0) -> SimulatedProvider:
    """The simulated provider behind a connection name, or KeyError."""
    return SimulatedProvider(PROFILES[name], seed)
