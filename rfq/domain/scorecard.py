"""Counterparty scorecards from the history of their invitations: plain records in, figures out."""

import math
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

NEUTRAL_SCORE: Final = 0.5  # a counterparty without history ranks in the middle


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    responded: bool  # quoted or passed within the window
    passed: bool
    response_seconds: float | None
    quoted: bool
    won: bool  # its quote was executed
    was_best: bool  # its quote was the best of the RFQ
    distance_from_best_bps: Decimal | None
    distance_from_mid_bps: Decimal | None
    last_look_rejections: int = 0
    withdrawals: int = 0


@dataclass(frozen=True, slots=True)
class Scorecard:
    requests: int
    responses: int
    response_rate: float
    passes: int
    quotes: int
    median_response_seconds: float | None
    p90_response_seconds: float | None
    hit_ratio: float  # executed / quoted
    best_ratio: float  # best / quoted
    avg_distance_from_best_bps: Decimal | None
    avg_distance_from_mid_bps: Decimal | None
    last_look_rejections: int
    withdrawals: int
    score: float


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in (0, 1])."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _mean(values: list[Decimal]) -> Decimal | None:
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01")) if values else None


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def scorecard(records: list[InvitationRecord]) -> Scorecard:
    requests = len(records)
    responses = sum(r.responded for r in records)
    quotes = sum(r.quoted for r in records)
    times = [r.response_seconds for r in records if r.response_seconds is not None]
    rejections = sum(r.last_look_rejections for r in records)
    card = dict(
        requests=requests,
        responses=responses,
        response_rate=_ratio(responses, requests),
        passes=sum(r.passed for r in records),
        quotes=quotes,
        median_response_seconds=statistics.median(times) if times else None,
        p90_response_seconds=percentile(times, 0.9),
        hit_ratio=_ratio(sum(r.won for r in records), quotes),
        best_ratio=_ratio(sum(r.was_best for r in records), quotes),
        avg_distance_from_best_bps=_mean(
            [r.distance_from_best_bps for r in records if r.distance_from_best_bps is not None]
        ),
        avg_distance_from_mid_bps=_mean(
            [r.distance_from_mid_bps for r in records if r.distance_from_mid_bps is not None]
        ),
        last_look_rejections=rejections,
        withdrawals=sum(r.withdrawals for r in records),
    )
    if requests == 0:
        score = NEUTRAL_SCORE
    else:
        # Answers, competitive prices and trades that stick: 0 (useless) to 1.
        reliability = 1.0 - _ratio(rejections, rejections + sum(r.won for r in records))
        score = 0.35 * card["response_rate"] + 0.35 * card["best_ratio"] + 0.1 * card["hit_ratio"] + 0.2 * reliability
    return Scorecard(**card, score=round(score, 4))
