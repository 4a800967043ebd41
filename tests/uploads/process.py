"""The upload service as a real process (`python -m uploads`), which a test can kill and restart."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from harness.stack import ROOT, VENV_PYTHON
from tests.waiting import until

from .fake_reception import API_TOKEN


@dataclass
class UploadsProcess:
    """`python -m uploads` on a port of its own, which a test can kill and start again."""

    port: int
    folder: Path
    reception_url: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where the service listens."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the process and wait until it answers."""
        self.launch()
        await until(self._answers, timeout=30)

    def launch(self) -> None:
        """Start the process, with reception's token and the fake reception's address."""
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("UPLOADS_")},
            "RECEPTION_API_TOKEN": API_TOKEN,
            "RECEPTION_URL": self.reception_url,
            "UPLOADS_PORT": str(self.port),
            "UPLOADS_DIR": str(self.folder),
            "UPLOADS_LINK_CACHE_SECONDS": "0.2",
            "PYTHONUNBUFFERED": "1",
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [VENV_PYTHON, "-m", "uploads"], cwd=ROOT, env=env, stdout=log, stderr=log
            )

    async def _answers(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{self.url}/healthz") as r:
                return r.status == 200
        except aiohttp.ClientError:
            return False

    def kill(self) -> None:
        """Kill the process at once, as a crash would (SIGKILL: nothing runs on the way out)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the process if it runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
