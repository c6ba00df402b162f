"""Feed handlers: the `FeedHandler` port and its simulator and CSV-replay adapters (pure, no Django)."""

from .base import FeedHandler
from .replay import ReplayFeed
from .simulator_feed import SimulatorFeed

__all__ = ["FeedHandler", "ReplayFeed", "SimulatorFeed"]
