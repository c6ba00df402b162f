"""Pure EMS domain: the execution and child-order state tables. Standard library only."""
