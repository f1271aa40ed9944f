"""deploy/: every file parses, and says what the production shape needs."""

from __future__ import annotations

import configparser
import importlib.util
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from leadhub.cli import main

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("leadhub*.service"))


def gunicorn_settings() -> dict:
    spec = importlib.util.spec_from_file_location("gunicorn_conf", DEPLOY / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def test_gunicorn_runs_one_threaded_process_of_the_real_app():
    settings = gunicorn_settings()
    assert settings["workers"] == 1 and settings["worker_class"] == "gthread"
    assert settings["threads"] >= 50 and settings["control_socket_disable"] is True
    module, _, name = settings["wsgi_app"].partition(":")
    assert importlib.util.find_spec(module) is not None and name == "app"
    assert callable(settings["child_exit"])  # marks dead processes for /metrics


def nginx_blocks(text: str) -> dict[str, str]:
    """`location ...` blocks by their argument, after checking the braces balance."""
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    depth = 0
    for char in code:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "a { is never closed"
    for statement in re.split(r"[{};]", code):
        statement = statement.strip()
        assert not statement or re.fullmatch(r"[\w'\"~^.$/-]+(\s+\S.*)?", statement, re.DOTALL), (
            statement
        )
    return dict(re.findall(r"location\s+([^{]+?)\s*\{([^}]*)\}", code))


@pytest.mark.parametrize("name", ["leadhub.conf", "compose.conf"])
def test_the_nginx_sites_upgrade_socket_io_and_keep_clients_on_one_process(name):
    text = (DEPLOY / "nginx" / name).read_text()
    locations = nginx_blocks(text)
    assert "ip_hash;" in text or "hash $cookie_" in text
    assert "client_max_body_size" in text
    socket_io = locations["/socket.io/"]
    assert "proxy_set_header Upgrade $http_upgrade" in socket_io
    assert "proxy_set_header Connection $connection_upgrade" in socket_io
    assert "= /api/v1/meta/webhook" in locations and "limit_req" not in text
    assert "deny all" in locations["= /metrics"]
    if name == "leadhub.conf":
        assert "ssl_certificate" in text and "listen 443 ssl" in text


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed on this machine")
def test_nginx_accepts_the_site(tmp_path):
    site = (DEPLOY / "nginx" / "leadhub.conf").read_text()
    site = re.sub(r"ssl_certificate(_key)?\s+\S+;", "", site).replace(
        "listen 443 ssl", "listen 443"
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"events {{}}\nhttp {{\n{site}\n}}\n")
    result = subprocess.run(  # noqa: S603 - a fixed command on our own file
        [shutil.which("nginx") or "nginx", "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_compose_has_postgres_redis_two_web_processes_and_two_workers():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web1", "web2", "worker1", "worker2", "nginx"} <= set(
        services
    )
    for name in ("web1", "web2", "worker1", "worker2"):
        environment = services[name]["environment"]
        assert environment["LEADHUB_ENV"] == "production"
        assert environment["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    periodic = [
        name for name in ("worker1", "worker2") if "--periodic" in services[name]["command"]
    ]
    assert periodic == ["worker1"]  # exactly one scheduler


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(path)
    return parser


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_units_run_commands_that_exist(path):
    parsed = unit(path)
    assert parsed.has_section("Unit") and parsed.has_section("Service")
    command = shlex.split(parsed["Service"]["ExecStart"])
    program = Path(command[0]).name
    assert program in ("leadhub", "gunicorn")
    if program == "leadhub":
        group = main
        for word in command[1:]:
            if word.startswith("-") or not hasattr(group, "commands"):
                break
            assert word in group.commands, f"{path.name}: no command {word!r}"
            group = group.commands[word]
    else:
        assert command[1:] == ["-c", "/opt/leadhub/deploy/gunicorn.conf.py"]
    assert parsed["Service"]["EnvironmentFile"] == "/etc/leadhub/leadhub.env"


def test_exactly_one_unit_runs_the_periodic_schedule():
    periodic = [p.name for p in UNITS if "--periodic" in unit(p)["Service"]["ExecStart"]]
    assert periodic == ["leadhub-scheduler.service"]
