"""Production mode refuses a missing or published SECRET_KEY, and `check --deploy` is clean
behind a TLS-terminating proxy. Each runs manage.py in a child process with the environment
an operator would set."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" + "".join(chr(ord("a") + i % 26) for i in range(7, 70))


def manage(*args, **env):
    full = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | env
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "key",
    [None, "", "change-me-in-production", "embedded-demo-key-not-for-production-use-0123456789", "short-key"],
)
def test_production_refuses_a_missing_or_known_key(key):
    env = {"PRODUCTION": "true"} | ({} if key is None else {"SECRET_KEY": key})
    result = manage("check", **env)
    assert result.returncode != 0
    assert "PRODUCTION=true needs SECRET_KEY" in result.stderr


def test_deploy_check_is_clean_behind_a_tls_proxy():
    # Only the deployment checks (Django's security.*, axes.*): the OpenAPI schema's own
    # warnings (drf_spectacular.W001) are the schema's business, tested with it.
    result = manage(
        "check", "--deploy", "--tag", "security", "--tag", "compatibility", "--fail-level", "WARNING",
        PRODUCTION="true", SECRET_KEY=GOOD_KEY, TLS_AT_PROXY="true", ALLOWED_HOSTS="trading.example.com", DEBUG="false",
    )  # fmt: skip
    assert (result.returncode, result.stdout.strip(), result.stderr) == (
        0,
        "System check identified no issues (0 silenced).",
        "",
    )


def test_without_the_proxy_setting_the_deploy_check_warns():
    result = manage("check", "--deploy", PRODUCTION="true", SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="trading.example.com")
    assert "security.W004" in result.stderr + result.stdout and "security.W008" in result.stderr + result.stdout
