"""deploy/: the Prometheus rules and scrape configuration and the Grafana dashboard parse,
name only figures the product exports, and cover what the issue asks an operator to see."""

import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from django.test import Client

from tests.ops.metrics_helpers import NAMED, scrape

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
METRIC = re.compile(r"\bsmart_trading_[a-z_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@pytest.fixture
def exported(db):
    return set(scrape(Client()).families)


def rules() -> list[dict]:
    document = yaml.safe_load((DEPLOY / "prometheus" / "rules.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_rules_cover_what_an_operator_is_paged_for(exported):
    found = {rule["alert"]: rule for rule in rules()}
    assert {"TickLagHigh", "TicksOverdue", "MarketDataStale", "ReconciliationBreaks", "FixSessionDown"} <= set(found)
    assert {"HttpErrorRateHigh", "ProcessDown"} <= set(found)
    for name, rule in found.items():
        assert rule["expr"].strip() and rule["labels"]["severity"] in ("page", "warning"), name
        assert rule["annotations"]["summary"], name
        promql_parser.parse(rule["expr"])  # PromQL that parses (ValueError otherwise)
        unknown = {family(m) for m in METRIC.findall(rule["expr"])} - exported
        assert not unknown, f"{name} watches {unknown}, which nothing exports"


def test_a_broken_expression_is_caught():
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(smart_trading_fills_total[5m])")


def test_the_scrape_config_reaches_every_process():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"web", "worker", "beat", "marketdata", "fix"}
    assert jobs["web"]["static_configs"][0]["targets"] == ["web:8000"]
    assert jobs["worker"]["static_configs"][0]["targets"] == ["worker:9100", "analytics-worker:9100"]
    for name in ("beat", "marketdata", "fix"):
        assert jobs[name]["static_configs"][0]["targets"] == [f"{name}:9100"]
    for job in jobs.values():
        assert job["authorization"] == {"credentials_file": "/prometheus/metrics-token"}
    assert config["rule_files"] == ["/etc/prometheus/rules.yml"]


def test_the_dashboard_shows_every_named_figure_from_exported_metrics(exported):
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "smart-trading.json").read_text())
    assert dashboard["uid"] and dashboard["title"]
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    shown = set()
    for panel in panels:
        assert panel["datasource"]["uid"] == "prometheus" and panel["targets"], panel["title"]
        for target in panel["targets"]:
            promql_parser.parse(target["expr"])
            shown |= {family(m) for m in METRIC.findall(target["expr"])}
    assert shown <= exported, shown - exported
    assert set(NAMED) - {"smart_trading_tick_overdue_seconds"} <= shown
    provisioning = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "smart-trading.yml").read_text()
    )
    assert provisioning["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
