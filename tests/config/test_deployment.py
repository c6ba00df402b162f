"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked: every
service's command exists in the project and the app services get the production settings."""

from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"web", "worker", "beat", "marketdata", "migrate", "fix"}


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_present():
    assert {"postgres", "redis"} | APP_SERVICES <= set(compose()["services"])


def _manage_commands(argv):
    if argv[:2] == ["python", "manage.py"]:
        yield argv[2]
    if argv[:2] == ["sh", "-c"]:
        for part in argv[2].split("&&"):
            words = part.split()
            if words[:2] == ["python", "manage.py"]:
                yield words[2]


def test_every_app_command_exists():
    django_commands = get_commands()
    for name in APP_SERVICES:
        argv = compose()["services"][name]["command"]
        if argv[0] == "celery":
            assert argv[1:4] == ["-A", "config", name]  # the worker service runs `worker`, beat runs `beat`
            from config.celery import app

            assert app.main == "smart_trading"
            continue
        commands = list(_manage_commands(argv))
        assert commands, f"{name}: {argv} runs nothing of ours"
        for command in commands:
            assert command in django_commands, f"{name}: manage.py {command} does not exist"


def test_app_services_use_production_settings():
    for name in APP_SERVICES:
        service = compose()["services"][name]
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"].startswith("redis://")
        assert env["DEBUG"] == "false" and env["MARKETDATA_EMBEDDED"] == "false"


def test_dockerfile_installs_the_lock_and_runs_the_project():
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes --no-deps -r /tmp/requirements.lock" in text and "manage.py" in text


def test_production_compose_seeds_no_demo_users_by_default():
    services = compose()["services"]
    migrate = services["migrate"]
    script = migrate["command"][2]
    assert "seed_demo" in script and 'if [ "$$DEMO_DATA" = true ]' in script and "db_app_role" in script
    assert migrate["environment"]["DEMO_DATA"] == "${DEMO_DATA:-false}"
    for name in APP_SERVICES - {"migrate"}:
        env = services[name]["environment"]
        assert env["PRODUCTION"] == "true" and "DEMO_PASSWORD" not in env
        assert env["DATABASE_URL"].startswith("postgres://smart_app:")  # the role that owns nothing
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no fallback key
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://smart:")  # the owner migrates
