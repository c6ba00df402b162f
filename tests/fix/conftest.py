"""The client acceptor as its own process (`manage.py run_fix`) on pytest-django's test
database, driven by tests.fix.client (simplefix over a socket) from the test process."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "fix-secret"


def fix_port() -> int:
    """A free port in 9301-9399 (the range this suite's FIX sessions may use)."""
    for port in range(9301 + os.getpid() % 50, 9400):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 9301-9399")


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


class Process:
    def __init__(self, argv: list[str], env: dict, log: Path):
        self.argv, self.env, self.log_path = argv, env, log
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        out = self.log_path.with_suffix(f".{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in sorted(self.log_path.parent.glob(self.log_path.stem + ".*"))
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


def wait_port(port: int, process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise AssertionError(f"the FIX process exited:\n{process.log()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout}s:\n{process.log()}")


@pytest.fixture
def fix_env(tmp_path):
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "FIX_STORE_DIR": str(tmp_path / "fix"),
        "FIX_REPORT_POLL_SECONDS": "0.01",
        "DB_POOL_MAX_SIZE": "4",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def acceptor_process(fix_env, tmp_path):
    """Start with `.start()` once the sessions are configured (the acceptor reads them at start)."""
    port = fix_port()
    process = Process([sys.executable, "manage.py", "run_fix", "--port", str(port)], fix_env, tmp_path / "acceptor")
    process.port = port

    def start():
        process.start()
        wait_port(port, process)

    process.begin = start
    yield process
    process.stop()
