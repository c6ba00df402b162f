"""The Dockerfile and docker-compose.yml, checked without a Docker engine: stages, user,
state volume, health checks, the lock, and no secret or demo password baked in."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"migrate", "web", "worker", "analytics-worker", "beat", "marketdata", "fix"}
LONG_RUNNING = APP_SERVICES - {"migrate"}


def stages() -> dict[str, list[str]]:
    """The Dockerfile's instructions by stage name (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = match.group(2)
            found[current] = [line]
        elif current:
            found[current].append(line)
    return found


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_two_stages_and_the_final_one_has_no_compiler():
    found = stages()
    assert list(found) == ["build", "runtime"]
    assert found["runtime"][0].split()[1] == "python:3.11-slim"  # slim: no gcc, no make
    runtime = "\n".join(found["runtime"])
    assert "apt-get" not in runtime and not re.search(r"\b(gcc|g\+\+|build-essential|make)\b", runtime)
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    assert "build-essential" in "\n".join(found["build"])  # the compilers stay in the build stage


def test_installs_only_the_runtime_lock_with_hashes():
    build = "\n".join(stages()["build"])
    assert "COPY requirements.lock" in build
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.lock" in build


def test_runs_as_a_non_root_user_with_its_state_in_a_volume_and_a_healthcheck():
    runtime = stages()["runtime"]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users == ["app:app"], users
    assert "useradd --system --uid 10001" in "\n".join(runtime)
    assert 'VOLUME ["/var/lib/smart-trading"]' in runtime
    assert any(line.startswith("HEALTHCHECK ") and "deploy/healthcheck.py" in line for line in runtime)
    # Static files are collected at build, before the switch to the unprivileged user.
    collect = next(i for i, line in enumerate(runtime) if "collectstatic --noinput" in line)
    assert collect < runtime.index("USER app:app")
    assert runtime[-1].startswith("CMD ")
    assert (ROOT / "deploy" / "entrypoint.sh").stat().st_mode & 0o111


def test_no_secret_in_the_image():
    text = (ROOT / "Dockerfile").read_text()
    for name in ("SECRET_KEY", "PASSWORD", "METRICS_TOKEN"):
        assert not re.search(rf"^\s*(ENV|ARG)\b.*{name}", text, re.MULTILINE), f"{name} set in the Dockerfile"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv/", "var/", ".git/", "tests/"} <= set(ignored)


def test_every_app_service_runs_the_image_with_a_command_and_health_check():
    services = compose()["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] == {"context": ".", "target": "runtime"} and service["image"] == "smart-trading:latest"
        assert service["command"], name
    for name in LONG_RUNNING:
        check = services[name]["healthcheck"]
        assert check["test"] == ["CMD", "python", "/app/deploy/healthcheck.py"], name
    for name in {"worker", "analytics-worker", "beat", "marketdata"}:
        env = services[name]["environment"]
        assert env["HEALTHCHECK_URL"] == "http://127.0.0.1:9100/metrics" and env["METRICS_PORT"] == "9100"
    assert "/var/lib/smart-trading/celerybeat-schedule" in services["beat"]["command"]
    assert services["beat"]["volumes"] == ["beat-state:/var/lib/smart-trading"]


SECRET_NAMES = re.compile(r"PASSWORD|SECRET|TOKEN")


def test_no_default_secret_or_demo_password_in_compose():
    """A secret is either required (${X:?...}) or empty by default (${X:-}): never a value."""
    text = (ROOT / "docker-compose.yml").read_text()
    for name, default in re.findall(r"\$\{(\w+):-([^}]*)\}", text):
        if SECRET_NAMES.search(name):
            assert default == "", f"{name} has the default {default!r}"
    services = compose()["services"]
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAMES.search(key):
                assert str(value).startswith("${"), f"{key} is baked in as {value!r}"
            if key == "DATABASE_URL":
                assert re.match(r"postgres://\w+:\$\{\w+:\?", value), f"a password in {value}"
    assert services["migrate"]["environment"]["DEMO_PASSWORD"] == "${DEMO_PASSWORD:-}"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_production_has_no_demo_password_and_seed_demo_refuses_an_empty_one(settings, db):
    import pytest
    from django.core.management import CommandError, call_command

    settings.DEMO_PASSWORD = ""
    with pytest.raises(CommandError, match="set DEMO_PASSWORD"):
        call_command("seed_demo", "--without-history")


def test_the_monitoring_profile_is_optional_and_needs_its_secrets():
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"])
    assert 'test -n "$$METRICS_TOKEN"' in services["prometheus"]["entrypoint"][2]
    assert 'test -n "$$GF_SECURITY_ADMIN_PASSWORD"' in services["grafana"]["entrypoint"][2]
    assert services["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
