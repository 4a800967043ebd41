"""The command line: `python -m reception [serve|migrate|purge|create-user]` and the alembic CLI."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from argon2 import PasswordHasher
from sqlalchemy import update

from reception import queries
from reception.db import create_engine, create_sessionmaker
from reception.migrate import upgrade
from reception.models import Ticket, TicketStatus, utcnow
from reception.schemas import TicketCreate
from reception.settings import normalise_database_url
from tests.content_fixture import content
from tests.reception.support import ticket_body

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _environment(**extra: str) -> dict[str, str]:
    """Return a child-process environment with the given variables added."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.startswith("RECEPTION_")
    }
    return {**env, **extra}


def test_migrate_command_upgrades_an_empty_database(tmp_path: Path) -> None:
    database = tmp_path / "var" / "reception.db"
    result = subprocess.run(
        [sys.executable, "-m", "reception", "migrate"],
        env=_environment(DATABASE_URL=f"sqlite:///{database}"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "latest revision" in result.stderr
    assert database.is_file()


def test_alembic_cli_uses_the_package_ini(tmp_path: Path) -> None:
    database = tmp_path / "reception.db"
    alembic = Path(sys.executable).parent / "alembic"
    result = subprocess.run(
        [str(alembic), "-c", str(PROJECT_ROOT / "reception" / "alembic.ini"), "upgrade", "head"],
        env=_environment(DATABASE_URL=f"sqlite:///{database}"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "0001" in result.stderr


def _free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_health(url: str, process: subprocess.Popen[str]) -> None:
    """Poll /healthz until it answers, or fail if the process dies or takes too long."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited early"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within 30 s")


def test_serve_command_starts_and_logs_one_line(tmp_path: Path) -> None:
    port = _free_port()
    env = _environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'reception.db'}",
        RECEPTION_API_TOKEN="secret",
        RECEPTION_SESSION_SECRET="cli-test-session-secret",
        RECEPTION_PORT=str(port),
    )
    with subprocess.Popen(
        [sys.executable, "-m", "reception"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        finally:
            process.terminate()
            stdout, stderr = process.communicate(timeout=30)
    assert stdout == ""
    assert stderr.splitlines()[0].endswith(
        f"reception listening on http://127.0.0.1:{port} (database: sqlite, migrate on start: True)"
    )
    startup = [line for line in stderr.splitlines() if "aiohttp.access" not in line]
    assert len(startup) == 1, stderr


def test_serve_command_without_token_explains_itself(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reception", "serve"],
        env={**_environment(), "RECEPTION_API_TOKEN": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "RECEPTION_API_TOKEN is not set" in result.stderr


def test_serve_command_without_session_secret_explains_itself(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reception", "serve"],
        env=_environment(RECEPTION_API_TOKEN="secret"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "RECEPTION_SESSION_SECRET is not set" in result.stderr


def _create_user(tmp_path: Path, *args: str, password: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m reception create-user` with the password on standard input."""
    return subprocess.run(
        [sys.executable, "-m", "reception", "create-user", *args, "--password-stdin"],
        env=_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'reception.db'}"),
        cwd=tmp_path,
        input=f"{password}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _stored_accounts(tmp_path: Path) -> list[tuple[str, str, bool, str]]:
    """Return (email, role, active, password hash) of every account in the database."""
    with sqlite3.connect(tmp_path / "reception.db") as connection:
        return connection.execute(
            "SELECT email, role, active, password_hash FROM staff_users ORDER BY id"
        ).fetchall()


def test_create_user_makes_the_first_admin(tmp_path: Path) -> None:
    password = "a long admin password"
    result = _create_user(
        tmp_path, "--email", "Admin@Example.org", "--role", "admin", password=password
    )
    assert result.returncode == 0, result.stderr
    assert "created a staff account with the admin role" in result.stderr
    assert password not in result.stderr + result.stdout
    assert "admin@example.org" not in result.stderr.lower()
    [(email, role, active, password_hash)] = _stored_accounts(tmp_path)
    assert (email, role, active) == ("admin@example.org", "admin", 1)
    assert password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(password_hash, password)


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--email", "a@example.org", "--role", "admin"], "short", "at least 12 characters"),
        (["--email", "not-an-email", "--role", "admin"], "a long admin password", "--email"),
    ],
    ids=["weak-password", "bad-email"],
)
def test_create_user_refuses_bad_input(
    tmp_path: Path, args: list[str], password: str, message: str
) -> None:
    result = _create_user(tmp_path, *args, password=password)
    assert result.returncode == 2
    assert message in result.stderr


def test_create_user_refuses_a_duplicate_and_unknown_roles(tmp_path: Path) -> None:
    args = ["--email", "ana@example.org", "--role", "reception"]
    assert _create_user(tmp_path, *args, password="a long password!").returncode == 0
    again = _create_user(tmp_path, *args, password="another long one")
    assert again.returncode == 2
    assert "already exists" in again.stderr
    boss = _create_user(tmp_path, "--email", "b@example.org", "--role", "boss", password="x" * 12)
    assert boss.returncode == 2
    assert "invalid choice" in boss.stderr
    assert len(_stored_accounts(tmp_path)) == 1


async def _closed_tickets(url: str, days_ago: list[int]) -> list[str]:
    """Create one closed ticket per age in days, on a migrated database, and return them."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        references = []
        async with create_sessionmaker(engine)() as session:
            for days in days_ago:
                created = await queries.create_ticket(session, TicketCreate(**ticket_body()))
                reference = created.ticket.reference
                for status in ("in_progress", "appointment_scheduled", "closed"):
                    await queries.update_ticket(
                        session, reference, queries.Actor.service(), status=TicketStatus(status)
                    )
                await session.execute(
                    update(Ticket)
                    .where(Ticket.reference == reference)
                    .values(closed_at=utcnow() - timedelta(days=days))
                )
                await session.commit()
                references.append(reference)
        return references
    finally:
        await engine.dispose()


def _erased(database: Path) -> list[tuple[str, str | None]]:
    """Return (reference, contact name) of every ticket whose data was erased."""
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT reference, contact_name FROM tickets WHERE erased_at IS NOT NULL ORDER BY id"
        ).fetchall()


def _purge(database: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m reception purge` on a SQLite database."""
    return subprocess.run(
        [sys.executable, "-m", "reception", "purge"],
        env=_environment(DATABASE_URL=f"sqlite:///{database}", **extra),
        cwd=database.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_purge_command_follows_the_privacy_notice_then_the_setting(tmp_path: Path) -> None:
    database = tmp_path / "reception.db"
    days = yaml.safe_load((PROJECT_ROOT / "content" / "reference.yml").read_text())["privacy"][
        "retention_days_after_closing"
    ]
    expired, recent = asyncio.run(
        _closed_tickets(normalise_database_url(f"sqlite:///{database}"), [days + 1, days - 1])
    )

    result = _purge(database)
    assert (result.returncode, result.stdout) == (0, "purged 1 ticket\n"), result.stderr
    assert _erased(database) == [(expired, None)]
    assert "Ada Example" not in result.stdout + result.stderr

    result = _purge(database, RECEPTION_RETENTION_DAYS=str(days - 2))
    assert (result.returncode, result.stdout) == (0, "purged 1 ticket\n"), result.stderr
    assert _erased(database) == [(expired, None), (recent, None)]
    result = _purge(database, RECEPTION_RETENTION_DAYS="1")
    assert (result.returncode, result.stdout) == (0, "purged 0 tickets\n"), result.stderr


def test_purge_command_refuses_to_guess_the_period(tmp_path: Path) -> None:
    database = tmp_path / "reception.db"
    asyncio.run(_closed_tickets(normalise_database_url(f"sqlite:///{database}"), [10_000]))
    result = _purge(database, CONTENT_DIR=str(content(tmp_path, privacy=False)))
    assert result.returncode == 2
    assert "RECEPTION_RETENTION_DAYS is not set" in result.stderr
    assert _erased(database) == []
    result = _purge(database, RECEPTION_RETENTION_DAYS="soon")
    assert result.returncode == 2
    assert "RECEPTION_RETENTION_DAYS must be a whole number" in result.stderr
