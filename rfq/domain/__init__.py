"""Pure RFQ domain: the RFQ and quote state tables, counterparty selection, ladder ordering. Standard library only."""
