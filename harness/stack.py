"""The whole product as real processes: Rasa, the actions, reception, the bot, uploads, clamd."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
CLAMD_SCHEME = "clamd:"


def free_port() -> int:
    """Ask the kernel for a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clamd_answers(socket_path: str) -> bool:
    """Tell whether a clamd answers PING on a unix socket."""
    try:
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(2.0)
            connection.connect(socket_path)
            connection.sendall(b"zPING\0")
            return connection.recv(16) == b"PONG\0"
    except OSError:
        return False


def answers(health_url: str) -> bool:
    """Tell whether a service answers: 200 over HTTP, or PONG from a clamd (`clamd:<socket>`)."""
    if health_url.startswith(CLAMD_SCHEME):
        return clamd_answers(health_url.removeprefix(CLAMD_SCHEME))
    try:
        with urllib.request.urlopen(health_url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def model_path() -> Path:
    """The trained model for the current training data (made by `make train`)."""
    fingerprint = subprocess.run(
        [ROOT / "scripts" / "model-fingerprint"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return ROOT / "models" / f"model-{fingerprint}.tar.gz"


@dataclass
class Service:
    """One process of the stack, with where it logs and how to tell it is ready."""

    name: str
    argv: list[str]
    health_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None

    def start(self, env: dict[str, str]) -> None:
        """Spawn the process, appending its output to its log file."""
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, deadline: float) -> None:
        """Poll the health URL until it answers 200, or fail with the log's tail."""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            if answers(self.health_url):
                return
            time.sleep(0.3)
        raise TimeoutError(f"{self.name} was not ready in time:\n{self.tail()}")

    def kill(self) -> None:
        """Kill the process group at once, as a crash or an OOM kill would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.log_file is not None:
            self.log_file.close()

    def stop(self) -> None:
        """Stop the process group, politely first."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self.log_file is not None:
            self.log_file.close()

    def tail(self, lines: int = 40) -> str:
        """The last lines of the log, for failure messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Stack:
    """Start and stop the processes with their own ports, databases and folders.

    Rasa serves `model`, or the current training data's model (`make train`) when it is None.
    """

    workdir: Path
    model: Path | None = None
    reception_token: str = "test-reception-token"
    rasa_token: str = "test-rasa-api-token"
    telegram_token: str | None = None
    telegram_base_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """The base URL of one service."""
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def content_dir(self) -> Path:
        """The stack's own copy of content/, which tests may edit."""
        return self.workdir / "content"

    @property
    def models_dir(self) -> Path:
        """The stack's own models folder, holding the model the stack serves at first."""
        return self.workdir / "models"

    @property
    def files_dir(self) -> Path:
        """Where reception keeps the patients' files, encrypted."""
        return self.workdir / "records"

    @property
    def clamd_socket(self) -> Path:
        """Where the stack's clamd listens (scripts/run-clamd, on the offline EICAR database)."""
        return self.workdir / "clamd" / "clamd.sock"

    @property
    def bot_database(self) -> Path:
        """The bot's SQLite database: its outbox of updates and replies."""
        return self.workdir / "bot.db"

    def prepare_content(self) -> None:
        """Copy content/ into the workdir, and make the stack's model its first.

        Rasa serves the model named after the training data's fingerprint (scripts/run-rasa),
        so another model is linked under that name.
        """
        shutil.copytree(ROOT / "content", self.content_dir, dirs_exist_ok=True)
        current = model_path()
        model = self.model or current
        if not model.exists():
            raise RuntimeError(f"{model} is missing: run `make train` first")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        (self.models_dir / current.name).unlink(missing_ok=True)
        (self.models_dir / current.name).symlink_to(model.resolve())

    def publish(self, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run the editors' `make publish` against this stack, as its content and models."""
        return subprocess.run(
            [str(VENV_PYTHON), "-m", "contenttools.publish"],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def env(self) -> dict[str, str]:
        """The environment every process of the stack gets."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                (
                    *("TELEGRAM_", "RASA_", "RECEPTION_", "DATABASE_", "BOT_", "ACTIONS_"),
                    *("TRACKER_", "UPLOADS_"),
                )
            )
        }
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "PYTHONWARNINGS": "ignore",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "RASA_TELEMETRY_ENABLED": "false",
                "RASA_PORT": str(self.ports["rasa"]),
                "RASA_URL": self.url("rasa"),
                "RASA_TRACKER_STORE_URL": f"sqlite:///{self.workdir / 'tracker.db'}",
                "RASA_API_TOKEN": self.rasa_token,
                "RASA_CACHE_DIRECTORY": str(self.workdir / "rasa-cache"),
                "CONTENT_DIR": str(self.content_dir),
                "TRAINING_DATA_DIR": str(self.workdir / "build" / "rasa"),
                "MODELS_DIR": str(self.models_dir),
                "ACTIONS_PORT": str(self.ports["actions"]),
                "ACTION_ENDPOINT_URL": f"{self.url('actions')}/webhook",
                "RECEPTION_PORT": str(self.ports["reception"]),
                "RECEPTION_URL": self.url("reception"),
                "RECEPTION_API_TOKEN": self.reception_token,
                "RECEPTION_SESSION_SECRET": "test-session-secret-of-the-stack",
                "BOT_URL": self.url("bot"),
                "UPLOADS_PUBLIC_URL": self.url("uploads"),
                "UPLOADS_PORT": str(self.ports["uploads"]),
                "UPLOADS_DIR": str(self.workdir / "uploads"),
                "RECEPTION_FILES_DIR": str(self.files_dir),
                "RECEPTION_CLAMD_SOCKET": str(self.clamd_socket),
                "DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'reception.db'}",
                "BOT_DATABASE_URL": f"sqlite+aiosqlite:///{self.bot_database}",
                "BOT_INSTANCE_NAME": "stack-bot",
                "ACTIONS_INSTANCE_NAME": "stack-actions",
                "ACTIONS_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir / 'actions.db'}",
                "TRACKER_RETENTION_INTERVAL_SECONDS": "5",
                "RECEPTION_RETENTION_INTERVAL_SECONDS": "5",
                "BOT_PORT": str(self.ports["bot"]),
                "TELEGRAM_POLL_TIMEOUT_SECONDS": "1",
                "PTB_TIMEDELTA": "true",
            }
        )
        if self.telegram_token and self.telegram_base_url:
            env["TELEGRAM_BOT_TOKEN"] = self.telegram_token
            env["TELEGRAM_API_BASE_URL"] = self.telegram_base_url
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 240) -> None:
        """Start every service and wait until all of them answer."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.prepare_content()
        names = ("rasa", "actions", "reception", "bot", "uploads")
        self.ports = {name: free_port() for name in names}
        logs = self.workdir
        py = str(VENV_PYTHON)
        self.services = {
            "clamd": Service(
                "clamd",
                [str(ROOT / "scripts" / "run-clamd"), str(self.clamd_socket.parent)],
                f"{CLAMD_SCHEME}{self.clamd_socket}",
                logs / "clamd.log",
            ),
            "reception": Service(
                "reception",
                [py, "-m", "reception"],
                f"{self.url('reception')}/healthz",
                logs / "reception.log",
            ),
            "actions": Service(
                "actions",
                [py, "-m", "actions"],
                f"{self.url('actions')}/health",
                logs / "actions.log",
            ),
            "rasa": Service(
                "rasa",
                [str(ROOT / "scripts" / "run-rasa")],
                f"{self.url('rasa')}/",
                logs / "rasa.log",
            ),
            "bot": Service(
                "bot", [py, "-m", "bot"], f"{self.url('bot')}/healthz", logs / "bot.log"
            ),
            "uploads": Service(
                "uploads",
                [py, "-m", "uploads"],
                f"{self.url('uploads')}/healthz",
                logs / "uploads.log",
            ),
        }
        env = self.env()
        for service in self.services.values():
            service.start(env)
        deadline = time.monotonic() + timeout
        try:
            for service in self.services.values():
                service.wait_ready(deadline)
        except Exception:
            self.stop()
            raise

    def create_staff_user(self, email: str, password: str, role: str = "reception") -> None:
        """Create a reception staff account with the documented command line."""
        subprocess.run(
            [
                *(str(VENV_PYTHON), "-m", "reception", "create-user"),
                *("--email", email, "--role", role, "--password-stdin"),
            ],
            cwd=ROOT,
            env=self.env(),
            input=f"{password}\n".encode(),
            capture_output=True,
            check=True,
            timeout=60,
        )

    def stop_service(self, name: str) -> None:
        """Stop one service politely (an outage, or a deployment)."""
        self.services[name].stop()

    def kill_service(self, name: str) -> None:
        """Kill one service at once."""
        self.services[name].kill()

    def start_service(self, name: str, timeout: float = 120) -> None:
        """Start a stopped service again, with the stack's environment, and wait for it."""
        service = self.services[name]
        service.start(self.env())
        service.wait_ready(time.monotonic() + timeout)

    def stop(self) -> None:
        """Stop every service."""
        for service in reversed(list(self.services.values())):
            service.stop()

    def logs(self) -> dict[str, str]:
        """Every service's full log."""
        return {
            name: service.log_path.read_text(errors="replace")
            for name, service in self.services.items()
            if service.log_path.exists()
        }
