"""Reading /metrics the way Prometheus does (the client's own text parser)."""

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    def __init__(self, text: str):
        self.text = text
        self.families = {}
        self.samples = {}
        for family in text_string_to_metric_families(text):
            self.families[family.name] = family
            for sample in family.samples:
                self.samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value

    def value(self, name: str, **labels) -> float:
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def labelled(self, name: str, label: str) -> dict[str, float]:
        return {dict(k[1])[label]: v for k, v in self.samples.items() if k[0] == name and label in dict(k[1])}


def scrape(client, **extra) -> Scrape:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return Scrape(response.content.decode())


# Every figure the issue names (Prometheus family names: counters without their _total).
NAMED = {
    "smart_trading_orders": "orders accepted and rejected",
    "smart_trading_order_intake_seconds": "intake latency",
    "smart_trading_executions": "executions running",
    "smart_trading_tick_lag_seconds": "tick lag",
    "smart_trading_tick_overdue_seconds": "tick lag while nothing ticks",
    "smart_trading_child_orders_open": "child orders open",
    "smart_trading_fills": "fills",
    "smart_trading_overfill_refusals": "overfill refusals",
    "smart_trading_rfqs_open": "RFQs open",
    "smart_trading_rfq_quote_to_ladder_seconds": "quote-to-ladder latency",
    "smart_trading_fix_session_logged_on": "FIX sessions logged on",
    "smart_trading_marketdata_age_seconds": "market-data age per symbol",
    "smart_trading_celery_queue_depth": "Celery queue depth",
    "smart_trading_db_pool_connections_in_use": "database pool in use",
    "smart_trading_http_responses": "error rate",
    "smart_trading_reconciliation_breaks": "reconciliation breaks",
}
