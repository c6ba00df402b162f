"""FIX order entry under load: one session (DEMOCLIENT) sends NewOrderSingle open-loop at a
fixed rate, and each order's latency is measured from its intended send time to its
ExecutionReport New (no coordinated omission). Two set-ups, each on a fresh database with the
demo data:
- embedded: the default `make run` set-up, `manage.py serve` with the acceptor inside it
  (SQLite, in-process worker);
- production: `manage.py run_fix` as its own process on PostgreSQL and Redis.
The client is the suite's (tests/fix/client.py: simplefix over a socket), a different FIX
implementation than the product's. Prints a table, then one JSON line.

    .venv/bin/python bench/fix.py [--rate 500] [--seconds 5] [--setups embedded,production]
Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432/bench_fix; dropped and
created), BENCH_REDIS (default: REDIS_URL's server, database 13), BENCH_FIX_PORT (9391)."""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
PASSWORD = "bench-fix"

from tests.fix.client import FixClient  # noqa: E402 - after the path is set


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, process: subprocess.Popen, what: str) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: nothing listens on {port}")


class Setup:
    def __init__(self, name: str, env: dict, argv: list[str]):
        self.name, self.env, self.argv = name, env, argv
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, timeout=900)

    def start(self, port: int) -> None:
        self.manage("migrate", "--noinput")
        self.manage("seed_demo", "--without-history")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_port(port, self.process, self.name)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def embedded(directory: Path, port: int) -> Setup:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL")}
    env |= {
        "EMBEDDED_DB_PATH": str(directory / "bench.sqlite3"),
        "FIX_STORE_DIR": str(directory / "fix-embedded"),
        "FIX_PORT": str(port),
        "DEMO_PASSWORD": PASSWORD,
        "LOG_LEVEL": "ERROR",
    }
    web = _free_port()
    return Setup("embedded", env, [PY, "manage.py", "serve", "--port", str(web)])


def production(directory: Path, port: int) -> Setup:
    import psycopg

    url = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/bench_fix")
    parts = urllib.parse.urlsplit(url)
    with psycopg.connect(urllib.parse.urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')
    redis = os.environ.get("BENCH_REDIS")
    if not redis:
        base = urllib.parse.urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
        redis = urllib.parse.urlunsplit(base._replace(path="/13"))
    env = os.environ | {
        "DATABASE_URL": url,
        "REDIS_URL": redis,
        "REDIS_CACHE_URL": redis,
        "MARKETDATA_EMBEDDED": "false",
        "FIX_STORE_DIR": str(directory / "fix-production"),
        "DEMO_PASSWORD": PASSWORD,
        "DB_POOL_MAX_SIZE": "4",
        "LOG_LEVEL": "ERROR",
    }
    return Setup("production", env, [PY, "manage.py", "run_fix", "--port", str(port)])


def drive(port: int, rate: float, seconds: float) -> dict:
    client = FixClient(port)
    if client.logon("pm", PASSWORD, timeout=30) is None:
        raise RuntimeError("logon refused")
    # Warm-up: the first orders pay for imports and caches.
    for i in range(20):
        client.new_order(f"W{i}", "AAPL", "BUY", 1)
        client.report(f"W{i}", timeout=30)
    total = int(rate * seconds)
    due: dict[str, float] = {}
    lock = threading.Lock()
    original_send = client.send

    def send(*args, **kwargs):
        with lock:
            return original_send(*args, **kwargs)

    client.send = send

    def sender():
        start = time.perf_counter()
        for i in range(total):
            at = start + i / rate
            pause = at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)  # pacing the open loop
            due[f"B{i}"] = at
            client.new_order(f"B{i}", "AAPL", "BUY", 1)

    thread = threading.Thread(target=sender, daemon=True)
    start = time.perf_counter()
    thread.start()
    latencies, rejected = [], 0
    last = start
    deadline = start + seconds + 60
    while len(latencies) + rejected < total and time.perf_counter() < deadline:
        msg = client.pump(1.0)
        if msg is None or msg.type != "8":
            continue
        client.received.clear()
        cl = msg.get(11, "")
        if cl in due and msg.get(150) in ("0", "8"):
            now = time.perf_counter()
            last = now
            if msg[150] == "8":
                rejected += 1
            else:
                latencies.append((now - due[cl]) * 1000)
    thread.join()
    client.logout()
    elapsed = last - start
    latencies.sort()

    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) if latencies else None

    return {
        "orders": total,
        "answered": len(latencies) + rejected,
        "rejected": rejected,
        "orders_per_s": round((len(latencies) + rejected) / elapsed, 1) if elapsed else 0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--setups", default="embedded,production")
    args = parser.parse_args()
    port = int(os.environ.get("BENCH_FIX_PORT", "9391"))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.setups.split(","):
            setup = (embedded if name == "embedded" else production)(Path(tmp), port)
            try:
                setup.start(port)
                results[name] = drive(port, args.rate, args.seconds)
            finally:
                setup.stop()
    print(f"{'set-up':<12}{'rate':>8}{'orders':>8}{'answered':>10}{'orders/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, r in results.items():
        print(
            f"{name:<12}{args.rate:>8.0f}{r['orders']:>8}{r['answered']:>10}{r['orders_per_s']:>10}"
            f"{r['p50_ms']!s:>9}{r['p99_ms']!s:>9}"
        )
    print(json.dumps({"bench": "fix", "rate": args.rate, "seconds": args.seconds, "setups": results}))


if __name__ == "__main__":
    main()
