"""docker/: the compose file and the Dockerfile say what the README promises.

There is no Docker engine here: hadolint lints the Dockerfile in `make lint`, the gunicorn
config is started for real in test_workers.py, and this file reads the rest.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
DOCKERFILE = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_compose_has_the_three_services_and_a_named_volume_for_postgres():
    assert set(COMPOSE["services"]) == {"api", "postgres", "redis"}
    assert "pgdata" in COMPOSE["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in COMPOSE["services"]["postgres"]["volumes"]


@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_the_api_waits_for_healthy_backing_services(service):
    assert COMPOSE["services"][service]["healthcheck"]["test"]
    depends = COMPOSE["services"]["api"]["depends_on"]
    assert depends[service] == {"condition": "service_healthy"}


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("QUOTECHECK_DATABASE_URL", "postgresql://"),
        ("QUOTECHECK_REDIS_URL", "redis://redis:6379"),
    ],
)
def test_the_api_is_pointed_at_postgres_and_redis(name, prefix):
    assert COMPOSE["services"]["api"]["environment"][name].startswith(prefix)


def test_no_secret_is_written_in_the_compose_file():
    for service in COMPOSE["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if "PASSWORD" in name:
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", value), name
    url = COMPOSE["services"]["api"]["environment"]["QUOTECHECK_DATABASE_URL"]
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password.startswith("${POSTGRES_PASSWORD:?"), "the password must come from the env"
    assert "docker/.env" in (ROOT / ".gitignore").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("a slim base pinned to a release", r"(?m)^FROM python:\d+\.\d+\.\d+-slim-\w+$"),
        ("a non-root numeric user", r"(?m)^USER [1-9]\d*(:\d+)?$"),
        ("a healthcheck on /readyz", r"HEALTHCHECK [^\n]*\\\n\s+CMD .*/readyz"),
        ("gunicorn with the config", r'(?m)^CMD \["gunicorn", "--config", "docker/gunicorn'),
    ],
)
def test_the_dockerfile(what, pattern):
    assert re.search(pattern, DOCKERFILE), what


def test_every_gunicorn_setting_is_in_the_configuration_table():
    config = (DOCKER / "gunicorn.conf.py").read_text(encoding="utf-8")
    names = set(re.findall(r"""(?:environ\.get|_int_setting)\(\s*"([A-Z_]+)\"""", config))
    assert "QUOTECHECK_WORKERS" in names
    for name in sorted(names):
        assert re.search(rf"^\| `{name}` \|", README, re.M), name
