"""Processes with children (the Celery prefork pool, uvicorn's web workers) report their
children's figures added up: the prometheus client's multiprocess mode, for real."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.conftest import redis_only
from tests.ops.metrics_helpers import Scrape

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0


def _env(tmp_path, **extra) -> dict:
    return {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


def test_separate_processes_add_up(tmp_path):
    count = "from core import metrics; metrics.FILLS.inc(); metrics.ORDERS.labels('accepted').inc(2)"
    for _ in range(3):
        subprocess.run([sys.executable, "-c", count], cwd=ROOT, env=_env(tmp_path), check=True, timeout=120)
    render = "import django; django.setup(); from core import metrics; print(metrics.render(system=False).decode())"
    out = subprocess.run(
        [sys.executable, "-c", render], cwd=ROOT, env=_env(tmp_path), check=True, timeout=120, capture_output=True
    )
    scrape = Scrape(out.stdout.decode())
    assert scrape.value("smart_trading_fills_total") == 3
    assert scrape.value("smart_trading_orders_total", outcome="accepted") == 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_url() -> str:
    """A Redis database of this test alone: the suite's number + 11."""
    base, _, number = settings.REDIS_URL.rstrip("/").rpartition("/")
    return f"{base}/{((int(number) if number.isdigit() else 0) + 11) % 16}"


@redis_only
def test_a_prefork_worker_serves_its_childrens_figures(tmp_path):
    from celery import Celery

    port, broker = _free_port(), _redis_url()
    sender = Celery(broker=broker, set_as_current=False)  # the suite's app stays the current one
    sender.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--queues",
            "metrics-test",
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=_env(tmp_path, REDIS_URL=broker, REDIS_CACHE_URL=broker, METRICS_PORT=str(port), METRICS_ADDR="127.0.0.1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for n in range(6):
            sender.send_task("celery.accumulate", args=(n,), queue="metrics-test")
        deadline, seen = time.monotonic() + DEADLINE, None
        while time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                    seen = Scrape(response.read().decode())
            except OSError:
                seen = None  # not serving yet
            if (
                seen
                and seen.value("smart_trading_celery_tasks_total", task="celery.accumulate", outcome="success") == 6
            ):
                break
            time.sleep(0.2)
        assert seen is not None, "the worker never served its metrics"
        assert seen.value("smart_trading_celery_tasks_total", task="celery.accumulate", outcome="success") == 6
        # One mmap file per process that counted: the children's figures, read by the parent.
        assert len({p.name for p in tmp_path.glob("counter_*.db")}) >= 1
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        sender.control.purge()
        sender.close()
