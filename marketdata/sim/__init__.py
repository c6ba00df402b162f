"""Pure market simulator: seeded lit books, background trades, dark pools, market impact.

Imports only the standard library and numpy. The model and all its formulas are
described in `marketdata.sim.simulator`; the tunables in `SimParams`.
"""

from .clock import Clock, VirtualClock, WallClock
from .events import Fill, Snapshot, Trade, VenueBook
from .simulator import MarketSimulator
from .specs import InstrumentSpec, SimParams, VenueSpec

__all__ = [
    "Clock",
    "Fill",
    "InstrumentSpec",
    "MarketSimulator",
    "SimParams",
    "Snapshot",
    "Trade",
    "VenueBook",
    "VenueSpec",
    "VirtualClock",
    "WallClock",
]
