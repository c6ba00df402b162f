"""Pure OMS domain: the order state table, compliance rules and position arithmetic.
Standard library only: plain data in, decisions out."""
