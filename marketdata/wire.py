"""The wire format of a consolidated book: a sim/replay `Snapshot` as the JSON the cache, the
API and the websocket carry. Decimals travel as strings with the tick's and lot's decimal
places; `seq` is added by the publisher."""

from collections import defaultdict

CONSOLIDATED_LEVELS = 10


def _q(value: float, places: int) -> str:
    # The feed's prices and sizes already sit on the tick and lot grids: fixed-point
    # formatting gives the same string as a Decimal quantize, an order of magnitude faster.
    return f"{value:.{places}f}"


def _ladder(levels, tick: int, lot: int) -> list[list[str]]:
    return [[_q(p, tick), _q(q, lot)] for p, q in levels]


def book_payload(snap, tick: int, lot: int, *, published_at: float) -> dict:
    """The consolidated book of `snap`: per-venue depth, the merged top levels, the best bid
    and offer with their venues, the last trade; `published_at` is epoch seconds."""
    venues, merged_bids, merged_asks = {}, defaultdict(float), defaultdict(float)
    best_bid = best_ask = None
    for name, book in snap.venues.items():
        venues[name] = {"bids": _ladder(book.bids, tick, lot), "asks": _ladder(book.asks, tick, lot)}
        for p, q in book.bids:
            merged_bids[p] += q
        for p, q in book.asks:
            merged_asks[p] += q
        if book.bids and (best_bid is None or book.bids[0][0] > best_bid[0]):
            best_bid = (book.bids[0][0], book.bids[0][1], name)
        if book.asks and (best_ask is None or book.asks[0][0] < best_ask[0]):
            best_ask = (book.asks[0][0], book.asks[0][1], name)

    def level(best):
        return {"price": _q(best[0], tick), "size": _q(best[1], lot), "venue": best[2]} if best else None

    spread_bps = None
    if best_bid and best_ask and snap.mid:
        spread_bps = round((best_ask[0] - best_bid[0]) / snap.mid * 1e4, 2)
    trade = snap.last_trade
    return {
        "symbol": snap.symbol,
        "ts": snap.ts,
        "published_at": published_at,
        "mid": _q(snap.mid, tick + 1) if snap.mid else None,
        "best_bid": level(best_bid),
        "best_ask": level(best_ask),
        "spread_bps": spread_bps,
        "venues": venues,
        "consolidated": {
            "bids": _ladder(sorted(merged_bids.items(), reverse=True)[:CONSOLIDATED_LEVELS], tick, lot),
            "asks": _ladder(sorted(merged_asks.items())[:CONSOLIDATED_LEVELS], tick, lot),
        },
        "last_trade": None
        if trade is None
        else {
            "price": _q(trade.price, tick),
            "size": _q(trade.size, lot),
            "venue": trade.venue,
            "side": trade.side,
            "ts": trade.ts,
        },
        "volume": _q(snap.volume, lot),
    }
