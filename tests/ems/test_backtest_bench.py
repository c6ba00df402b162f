"""bench/execution_quality.py is reproducible: the same seed prints the same table twice
(and another seed another one); its last line is one JSON object of the figures."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "execution_quality.py"


def run(*args):
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", *args], capture_output=True, text=True, timeout=300, check=True
    )
    lines = done.stdout.rstrip("\n").split("\n")
    figures = json.loads(lines[-1])
    figures.pop("elapsed_seconds")  # the one figure that moves between runs
    return lines[:-1], figures


def test_the_same_seed_prints_the_same_table_twice_and_another_seed_another():
    first, second, other = run("--seed", "3"), run("--seed", "3"), run("--seed", "4")
    assert first == second
    assert other[0] != first[0]
    table, figures = first
    assert figures["bench"] == "execution_quality" and figures["quick"] is True and figures["seed"] == 3
    assert figures["orders"] == 2 and set(figures["goals_met"]) == {
        "router_vs_market",
        "router_vs_twap",
        "router_vs_ac",
    }
    assert any(line.startswith("Implementation shortfall") for line in table)
    for bucket in figures["buckets"].values():
        for way in ("market", "twap", "router"):
            assert 0 < bucket[way]["fill"] <= 1


def test_several_seeds_pool_their_orders_into_one_table():
    _, first = run("--seed", "3")
    _, other = run("--seed", "4")
    table, pooled = run("--seeds", "3,4")
    assert pooled["seeds"] == [3, 4] and "seed" not in pooled
    assert pooled["orders"] == first["orders"] + other["orders"]
    # The pooled mean over the large orders is the mean of both sets' (same number of orders each).
    expected = (first["large"]["router"]["mean_bps"] + other["large"]["router"]["mean_bps"]) / 2
    assert abs(pooled["large"]["router"]["mean_bps"] - expected) < 1e-9
