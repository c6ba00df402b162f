"""Post-trade analysis as pure functions of plain data: fills, a price path, a schedule, the
quotes of an RFQ. No Django: tca.services turns rows into these types and back, so the same
code serves the order's TCA, the best-execution report and a backtest's counterfactuals."""
