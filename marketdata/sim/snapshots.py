"""Snapshots: what a market-data subscriber sees of one instrument. The lit venues' books
(dark pools never appear) with our resting lit orders merged into their levels, the last
trade and the session's volume."""

from __future__ import annotations

import numpy as np

from .book import ASK, BID, LitBooks
from .events import Snapshot, Trade, VenueBook
from .grid import Grid, side_of
from .matching import LitOrder
from .specs import InstrumentSpec, VenueSpec
from .tape import Tape


def merge_level(
    ladder: list[tuple[float, float]], price: float, size: float, descending: bool, size_decimals: int
) -> list[tuple[float, float]]:
    """The ladder with `size` added at `price`, as a new level if none is at that price."""
    for position, (level_price, level_size) in enumerate(ladder):
        if level_price == price:
            total = round(level_size + size, size_decimals)
            return ladder[:position] + [(price, total)] + ladder[position + 1 :]
        if (level_price < price) if descending else (level_price > price):
            return ladder[:position] + [(price, size)] + ladder[position:]
    return ladder + [(price, size)]


def build_snapshot(
    row: int,
    spec: InstrumentSpec,
    now: float,
    levels: int,
    lit_venues: list[VenueSpec],
    books: LitBooks,
    tape: Tape,
    grid: Grid,
    own: list[LitOrder],
    fair_value: float,
) -> Snapshot:
    price_decimals, size_decimals = grid.price_decimals[row], grid.size_decimals[row]
    prices = np.round(books.prices[row] * spec.tick_size, price_decimals).tolist()
    sizes = np.round(books.sizes[row] * spec.lot_size, size_decimals).tolist()
    venue_books = {}
    for lit, venue in enumerate(lit_venues):
        sides = []
        for book_side in (BID, ASK):
            ladder = [
                (price, size)
                for price, size in zip(prices[lit][book_side], sizes[lit][book_side], strict=True)
                if size > 0
            ]
            for order in own:
                if order.venue == lit and (order.sign > 0) == (book_side == BID):
                    ladder = merge_level(
                        ladder,
                        grid.price(row, order.price_ticks),
                        grid.units(row, order.remaining_lots),
                        book_side == BID,
                        size_decimals,
                    )
            sides.append(ladder[:levels])
        venue_books[venue.name] = VenueBook(venue.name, sides[0], sides[1])
    last_trade = None
    if tape.last_venue[row] >= 0:
        last_trade = Trade(
            round(float(tape.last_price[row]), price_decimals),
            grid.units(row, tape.last_size_lots[row]),
            lit_venues[int(tape.last_venue[row])].name,
            float(tape.last_ts[row]),
            side_of(tape.last_sign[row]),
        )
    midpoint = books.nbbo_mid(row, price_decimals)
    return Snapshot(
        spec.symbol,
        now,
        int(tape.seq[row]),
        midpoint if midpoint is not None else fair_value,
        venue_books,
        last_trade,
        grid.units(row, tape.volume_lots[row]),
    )
