"""Names of the channel-layer groups and sequence streams market data is pushed on."""

import re


def book_group(symbol: str) -> str:
    """The group a symbol's consolidated book is pushed to."""
    # Channel-layer group names allow only ASCII letters, digits, '-', '_' and '.'.
    return "marketdata." + re.sub(r"[^A-Za-z0-9._-]", "_", symbol)


def book_stream(symbol: str) -> str:
    """The sequence stream of a symbol's consolidated book (`core.sequence.next_sequence`)."""
    return f"marketdata.book.{symbol}"
