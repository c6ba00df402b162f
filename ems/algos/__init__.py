"""Pure execution algorithms (TWAP, VWAP, POV, IS, Iceberg): filled by the EMS issue."""
