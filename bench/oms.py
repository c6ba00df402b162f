"""Order intake under load: an open-loop generator drives POST /api/orders/ at fixed arrival
rates against a real server, and every order answered 201 is looked up afterwards.

Open loop: order i is due at t0 + i/rate whether or not earlier ones have been answered, and
its latency is measured from that intended send time (no coordinated omission). Two set-ups:
- postgres: the production set-up, `manage.py serve` with WEB_WORKERS uvicorn workers, the
  psycopg pool (DB_POOL_MAX_SIZE per worker) and Redis, on a fresh database;
- embedded: the default `make run` set-up (SQLite, one process, in-process worker).
Peak connections are sampled from pg_stat_activity (PostgreSQL only). Beside each row, the
CPU the server's processes and its PostgreSQL backends spent per answered request (from
/proc): on a shared machine that figure moves far less than latency does.

    .venv/bin/python bench/oms.py [--rates 50,200,500] [--seconds 5] [--setups postgres,embedded]
Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432/harden_bench; the database is
dropped and created), BENCH_REDIS_DB (default 14)."""

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CLIENT_CONNECTIONS = 256
WARM_UP_SECONDS = 3.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Setup:
    def __init__(self, name: str, env: dict[str, str]):
        self.name, self.env, self.port = name, env, _free_port()
        self.server: subprocess.Popen | None = None

    def manage(self, *args: str) -> None:
        subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True, timeout=600)

    def start(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("seed_demo", "--without-history")
        self.server = subprocess.Popen(
            [PY, "manage.py", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name}: server did not start")

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


def postgres_setup(url: str, redis_db: int) -> Setup:
    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = os.environ | {
        "DATABASE_URL": url,
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "REDIS_CACHE_URL": f"redis://127.0.0.1:6379/{redis_db + 1}",
        "MARKETDATA_EMBEDDED": "false",
        "WEB_WORKERS": os.environ.get("WEB_WORKERS", "2"),
        "DB_POOL_MAX_SIZE": os.environ.get("DB_POOL_MAX_SIZE", "8"),
        "PRETRADE_THROTTLE": "100000/min",
        "LOG_LEVEL": "ERROR",
    }
    setup = Setup("postgres", env)
    setup.database = name
    setup.url = url
    setup.bound = int(env["WEB_WORKERS"]) * int(env["DB_POOL_MAX_SIZE"])
    return setup


def embedded_setup(directory: Path) -> Setup:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "REDIS_CACHE_URL")}
    env |= {"EMBEDDED_DB_PATH": str(directory / "bench.sqlite3"), "LOG_LEVEL": "ERROR"}
    setup = Setup("embedded", env)
    setup.bound = None
    return setup


class Client:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams (no third-party client)."""

    def __init__(self, port: int, token: str, size: int):
        self.port, self.token = port, token
        self.idle: asyncio.Queue = asyncio.Queue()
        for _ in range(size):
            self.idle.put_nowait(None)  # a slot; opened on first use

    async def post(self, path: str, body: dict) -> tuple[int, dict]:
        conn = await self.idle.get()
        try:
            if conn is None:
                conn = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = conn
            data = json.dumps(body).encode()
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {self.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("closed")
            status = int(status_line.split()[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            payload = await reader.readexactly(int(headers.get("content-length", 0)))
            if headers.get("connection", "").lower() == "close":
                writer.close()
                conn = None
            return status, (json.loads(payload) if payload else {})
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            conn = None
            return 0, {}
        finally:
            self.idle.put_nowait(conn)


def get_token(port: int) -> str:
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth/token/",
        data=json.dumps({"username": "pm", "password": os.environ.get("DEMO_PASSWORD", "demo")}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["token"]


def portfolios(port: int, token: str) -> list[int]:
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/portfolios/", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        data = json.loads(response.read())
    return [p["id"] for p in (data["results"] if isinstance(data, dict) else data)]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class CpuMeter:
    """CPU seconds spent by the server (every process of it) and by its database backends
    while one rate runs: the machine is shared, so wall-clock figures move with other
    people's load; CPU per order moves much less."""

    def __init__(self, setup: "Setup"):
        self.setup = setup

    def _pids(self) -> tuple[list[int], list[int]]:
        web = _descendants(self.setup.server.pid)
        db = []
        if self.setup.name == "postgres":
            with psycopg.connect(self.setup.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                query = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                db = [r[0] for r in conn.execute(query, [self.setup.database])]
        return web, db

    def __enter__(self):
        self.web, self.db = self._pids()
        self.before = {pid: _cpu_seconds(pid) for pid in self.web + self.db}
        return self

    def __exit__(self, *exc):
        web, db = self._pids()
        self.web_seconds = sum(_cpu_seconds(p) - self.before.get(p, 0.0) for p in set(web))
        # A backend gone meanwhile took its time with it: counted up to what was seen.
        self.db_seconds = sum(_cpu_seconds(p) - self.before.get(p, 0.0) for p in set(db))


class ConnectionSampler(threading.Thread):
    def __init__(self, url: str, database: str):
        super().__init__(daemon=True)
        self.url, self.database, self.peak, self.running = url, database, 0, True

    def run(self):
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            while self.running:
                query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                row = conn.execute(query, [self.database]).fetchone()
                self.peak = max(self.peak, row[0])
                time.sleep(0.02)


async def drive(client: Client, rate: int, seconds: float, portfolio_ids: list[int], tag: str) -> dict:
    count = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    created: list[int] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.1

    async def one(i: int):
        due = t0 + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        body = {
            "portfolio": portfolio_ids[i % len(portfolio_ids)],
            "instrument": "AAPL",
            "side": "BUY",
            "quantity": "1",
            "urgency": "LOW",
            "client_order_id": f"{tag}-{i}",
        }
        status, answer = await client.post("/api/orders/", body)
        latencies.append(loop.time() - due)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 201:
            created.append(answer["id"])

    await asyncio.gather(*(one(i) for i in range(count)))
    elapsed = loop.time() - t0
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    return {
        "offered": rate,
        "sent": count,
        "achieved_per_s": round(statuses.get(201, 0) / elapsed, 1),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        "errors": count - statuses.get(201, 0),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "_created": created,
    }


def present_ids(setup: Setup) -> set[int]:
    if setup.name == "postgres":
        with psycopg.connect(setup.url) as conn:
            return {r[0] for r in conn.execute("SELECT id FROM oms_order")}
    with sqlite3.connect(setup.env["EMBEDDED_DB_PATH"]) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM oms_order")}


def run_setup(setup: Setup, rates: list[int], seconds: float) -> list[dict]:
    rows = []
    setup.start()
    try:
        token = get_token(setup.port)
        ids = portfolios(setup.port, token)
        # Warm every worker (imports, URLconf, first connections) before anything is measured.
        asyncio.run(drive(Client(setup.port, token, 8), 20, WARM_UP_SECONDS, ids, f"warm-{time.time_ns()}"))
        for rate in rates:
            sampler = None
            if setup.name == "postgres":
                sampler = ConnectionSampler(setup.url, setup.database)
                sampler.start()
            client = Client(setup.port, token, CLIENT_CONNECTIONS)
            with CpuMeter(setup) as cpu:
                row = asyncio.run(drive(client, rate, seconds, ids, f"{setup.name}-{rate}-{time.time_ns()}"))
            if sampler is not None:
                sampler.running = False
                sampler.join()
            created = set(row.pop("_created"))
            answered = max(1, sum(row["statuses"].values()))
            row["web_cpu_ms_per_request"] = round(cpu.web_seconds * 1000 / answered, 2)
            row["db_cpu_ms_per_request"] = (
                round(cpu.db_seconds * 1000 / answered, 2) if setup.name == "postgres" else None
            )
            row["missing_after"] = len(created - present_ids(setup))
            row |= {"setup": setup.name, "peak_connections": sampler.peak if sampler else None, "bound": setup.bound}
            rows.append(row)
            time.sleep(1)
    finally:
        setup.stop()
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--setups", default="postgres,embedded")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for name in args.setups.split(","):
            if name == "postgres":
                url = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/harden_bench")
                setup = postgres_setup(url, int(os.environ.get("BENCH_REDIS_DB", "14")))
            else:
                setup = embedded_setup(Path(directory))
            rows += run_setup(setup, rates, args.seconds)
    head = f"{'setup':<10}{'offered/s':>10}{'achieved/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
    head += f"{'missing':>9}{'peak conns':>12}{'bound':>7}{'web cpu':>9}{'db cpu':>8}  statuses"
    print(head)
    print("-" * len(head))
    for r in rows:
        peak = "-" if r["peak_connections"] is None else r["peak_connections"]
        bound = "-" if r["bound"] is None else r["bound"]
        db_cpu = "-" if r["db_cpu_ms_per_request"] is None else r["db_cpu_ms_per_request"]
        print(
            f"{r['setup']:<10}{r['offered']:>10}{r['achieved_per_s']:>12}{r['p50_ms']:>9}{r['p99_ms']:>9}"
            f"{r['errors']:>8}{r['missing_after']:>9}{peak!s:>12}{bound!s:>7}"
            f"{r['web_cpu_ms_per_request']:>9}{db_cpu!s:>8}  {r['statuses']}"
        )
    print(
        "web cpu / db cpu: CPU ms per answered request of the server's processes and of its "
        "PostgreSQL backends (the machine is shared: wall-clock figures move with others' load)"
    )
    print(json.dumps({"seconds_per_rate": args.seconds, "rows": rows}))


if __name__ == "__main__":
    main()
