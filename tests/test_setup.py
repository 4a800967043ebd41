"""The set-up scripts and the production files that no engine can run here, checked by reading."""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import yaml

from harness.stack import ROOT

PROCESSES = {"rasa", "actions", "reception", "bot", "uploads"}
SCANNER = "clamd"  # ClamAV's own process: scripts/run-clamd locally, ClamAV's image in compose


def test_missing_python_310_stops_with_what_to_install(tmp_path: Path) -> None:
    """Without any Python 3.10 the set-up fails and names the fix."""
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    bash = "/bin/bash"
    result = subprocess.run(
        [bash, ROOT / "scripts" / "find-python310"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "No working Python 3.10 was found" in result.stderr
    assert "pyenv install 3.10" in result.stderr


def test_python_310_is_found_here() -> None:
    """On this machine the set-up finds a real Python 3.10."""
    result = subprocess.run(
        [ROOT / "scripts" / "find-python310"], capture_output=True, text=True, env=os.environ
    )
    assert result.returncode == 0, result.stderr
    version = subprocess.run(
        [result.stdout.strip(), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("Python 3.10")


def test_rasa_is_pinned_for_its_environment() -> None:
    """The Rasa environment's requirements pin every package, Rasa 3.6.21 among them."""
    lines = [
        line
        for line in (ROOT / "requirements-rasa.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert "rasa==3.6.21" in lines
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[^=\s]+", line) for line in lines)


def test_compose_runs_the_same_processes_as_make_run() -> None:
    """docker/compose.yml has every Procfile process, wired to PostgreSQL."""
    procfile = {
        line.split(":", 1)[0]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.strip()
    }
    assert procfile == PROCESSES | {SCANNER}
    compose = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
    services = compose["services"]
    assert PROCESSES | {SCANNER, "postgres", "redis"} == set(services)
    assert services[SCANNER]["image"].startswith("clamav/clamav:")
    assert services["reception"]["environment"]["RECEPTION_CLAMD_SOCKET"].endswith("clamd:3310}")
    assert services["reception"]["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert services["rasa"]["environment"]["RASA_TRACKER_STORE_URL"].startswith("postgresql://")
    for name in PROCESSES:
        dockerfile = services[name]["build"]["dockerfile"]
        assert (ROOT / dockerfile).exists(), dockerfile


def test_rasa_image_is_built_on_the_official_one() -> None:
    """The Rasa image starts from rasa/rasa:3.6.21 and copies only files that exist."""
    dockerfile = (ROOT / "docker" / "Dockerfile.rasa").read_text()
    assert dockerfile.splitlines()[1] == "FROM rasa/rasa:3.6.21"
    for source in re.findall(r"^COPY (?:--chown=\S+ )?(\S+) ", dockerfile, flags=re.M):
        assert (ROOT / source).exists(), source
    app = (ROOT / "docker" / "Dockerfile.app").read_text()
    # Files copied from the context must exist; --from= copies come from an earlier stage.
    for source in re.findall(r"^COPY (?:--chown=\S+ )?(?!--from=)(\S+) ", app, flags=re.M):
        for part in source.split():
            assert (ROOT / part).exists(), part


def test_every_package_is_in_the_images() -> None:
    """The app image holds every package the project installs; the Rasa image, every package
    its extensions import.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {
        name: set(
            re.findall(
                r"^COPY (?:--chown=\S+ )?(\S+) ", (ROOT / "docker" / name).read_text(), flags=re.M
            )
        )
        for name in ("Dockerfile.app", "Dockerfile.rasa")
    }
    assert packages <= copied["Dockerfile.app"]
    imported = set()
    for path in (ROOT / "rasa_extensions").glob("*.py"):
        imported |= set(re.findall(r"^(?:from|import) (\w+)", path.read_text(), flags=re.M))
    assert imported & packages <= copied["Dockerfile.rasa"]
