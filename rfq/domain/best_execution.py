"""The best-execution figures of an executed RFQ: price improvement against the mid and
against the second-best quote, in price and bps (positive: better for the client)."""

from dataclasses import dataclass
from decimal import Decimal

from rfq.domain.ladder import BPS, BPS_QUANTUM


@dataclass(frozen=True, slots=True)
class Improvement:
    vs_mid: Decimal | None
    vs_mid_bps: Decimal | None
    vs_second: Decimal | None
    vs_second_bps: Decimal | None


def improvement(*, price: Decimal, client_side: str, mid: Decimal | None, second_best: Decimal | None) -> Improvement:
    sign = 1 if client_side == "BUY" else -1
    vs_mid = sign * (mid - price) if mid else None
    vs_second = sign * (second_best - price) if second_best is not None else None
    reference = mid or price

    def bps(value):
        return None if value is None else (value / reference * BPS).quantize(BPS_QUANTUM)

    return Improvement(vs_mid, bps(vs_mid), vs_second, bps(vs_second))
