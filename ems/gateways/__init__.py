"""Venue gateways: the port (`base.VenueGateway`) and its adapters. `gateway()` is the one
the settings select (EMS_GATEWAY: "simulator", the default, or "fix": venues over FIX sessions)."""

from core.streams import streams
from ems import conf
from ems.gateways.base import VenueGateway
from ems.gateways.fix import FixGateway
from ems.gateways.simulator import SimulatorGateway


def gateway() -> VenueGateway:
    if conf.gateway_name() == "fix":
        return FixGateway(streams(), claim_idle_ms=conf.report_claim_idle_ms())
    return SimulatorGateway(streams(), claim_idle_ms=conf.report_claim_idle_ms())


__all__ = ["FixGateway", "SimulatorGateway", "VenueGateway", "gateway"]
