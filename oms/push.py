"""Pushes order changes to the blotters after commit (websocket /ws/orders/)."""


def order_changed(order) -> None:
    """Placeholder until the /ws/orders/ push lands: nothing is pushed yet."""
