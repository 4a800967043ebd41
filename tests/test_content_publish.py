"""Publishing: check, compile, train only when the questions changed, load into a running Rasa.

Rasa is a small HTTP stand-in here; tests/e2e/test_content_publish.py publishes to the real one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contenttools import training
from contenttools.publish import PublishFailed, model_for_questions, publish
from contenttools.settings import PublishSettings
from harness.stack import ROOT
from tests.content_fixture import content

TOKEN = "publish-test-token"


@dataclass
class FakeRasa:
    """Rasa's /status and PUT /model, recording the models it was asked to load."""

    running: str = "model-old.tar.gz"
    loaded: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Where it listens."""
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        """Serve from a thread."""
        rasa = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/":
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.answer(200, {"model_file": rasa.running})

            def do_PUT(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                rasa.loaded.append(body["model_file"])
                rasa.running = Path(body["model_file"]).name
                self.send_response(204)
                self.end_headers()

            def answer(self, status: int, body: dict[str, Any]) -> None:
                if f"token={TOKEN}" not in self.path:
                    status, body = 401, {"message": "User is not authenticated."}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    """A running stand-in for Rasa's API."""
    fake = FakeRasa()
    fake.start()
    yield fake
    fake.stop()


def settings_for(tmp_path: Path, rasa_url: str, token: str = TOKEN) -> PublishSettings:
    """Publishing settings on a small content folder (which holds no request form's messages),
    with its own build and models folders.
    """
    return PublishSettings(
        rasa_url=rasa_url,
        rasa_api_token=token,
        content_dir=content(tmp_path),
        training_data_dir=tmp_path / "build" / "rasa",
        models_dir=tmp_path / "models",
        load_timeout_seconds=10,
        request_form=None,
    )


def trained(settings: PublishSettings) -> Path:
    """Pretend the model for the current questions was trained already."""
    training.build(settings.content_dir, ROOT / "data", settings.training_data_dir)
    model = model_for_questions(settings)
    model.parent.mkdir(parents=True, exist_ok=True)
    model.write_bytes(b"a model")
    return model


def test_publishing_loads_the_model_for_the_questions(
    tmp_path: Path, rasa: FakeRasa, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, rasa.url)
    model = trained(settings)
    publish(settings)
    assert rasa.loaded == [str(model)]
    assert capsys.readouterr().out.splitlines() == [
        f"1. Checked {settings.content_dir}: no problems.",
        f"2. Compiled the FAQ questions into {settings.training_data_dir} (0 changed).",
        f"3. The questions did not change: no training needed ({model.name} is up to date).",
        f"4. Loaded {model.name} into the running Rasa at {rasa.url}, without a restart.",
        "Published. Changed answers and messages are live already: the assistant rereads them.",
    ]


def test_a_model_that_already_runs_is_not_loaded_again(
    tmp_path: Path, rasa: FakeRasa, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, rasa.url)
    rasa.running = trained(settings).name
    publish(settings)
    assert rasa.loaded == []
    assert f"4. Rasa at {rasa.url} already runs {rasa.running}: nothing to load." in (
        capsys.readouterr().out.splitlines()
    )


def test_content_that_fails_the_check_is_not_published(
    tmp_path: Path, rasa: FakeRasa, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, rasa.url)
    topic = settings.content_dir / "en" / "faq" / "costs.md"
    topic.write_text(topic.read_text().replace("related: [delay]", "related: [nowhere]"))
    with pytest.raises(PublishFailed, match="Not published: fix the problems above"):
        publish(settings)
    assert "the related topic 'nowhere' does not exist" in capsys.readouterr().out
    assert not settings.training_data_dir.exists()
    assert rasa.loaded == []


def test_a_stopped_rasa_gets_the_model_when_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, "http://127.0.0.1:9")
    model = trained(settings)
    publish(settings)
    assert (
        f"4. Rasa is not running at http://127.0.0.1:9: it will use {model.name} when it starts."
        in capsys.readouterr().out.splitlines()
    )


def test_a_wrong_or_missing_token_is_explained(tmp_path: Path, rasa: FakeRasa) -> None:
    settings = settings_for(tmp_path, rasa.url, token="wrong")
    trained(settings)
    with pytest.raises(PublishFailed, match="refused the token: set RASA_API_TOKEN"):
        publish(settings)
    settings = settings_for(tmp_path / "again", rasa.url, token="")
    trained(settings)
    with pytest.raises(PublishFailed, match="RASA_API_TOKEN is not set"):
        publish(settings)
    assert rasa.loaded == []
