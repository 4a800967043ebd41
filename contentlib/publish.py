"""Publish the editors' content to the running assistant.

    make publish        (or: python -m contentlib.publish)

1. checks the content (as `make content-check` does) and stops at the first sign of trouble;
2. compiles the FAQ example questions into Rasa training data ($TRAINING_DATA_DIR);
3. trains a new model only if the questions changed (into $MODELS_DIR);
4. loads that model into the running Rasa server ($RASA_URL) through its HTTP API
   (PUT /model, with $RASA_API_TOKEN), without a restart: conversations carry on.

Answers and messages need no model: the running processes reread content/ when a file changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contentlib import training
from contentlib.check import check, summary
from contentlib.settings import PROJECT_ROOT, PublishSettings

SCRIPTS = PROJECT_ROOT / "scripts"


class PublishFailed(Exception):
    """Publishing stopped; the message says why and what to do."""


@dataclass(frozen=True)
class RasaApi:
    """The few calls of Rasa's HTTP API that publishing needs."""

    url: str
    token: str
    timeout: float

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one request with the token; return the decoded JSON answer (None if empty)."""
        query = urllib.parse.urlencode({"token": self.token})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}?{query}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw.strip() else None

    def reachable(self) -> bool:
        """Tell whether a Rasa server answers at all (its root needs no token)."""
        try:
            with urllib.request.urlopen(f"{self.url}/", timeout=min(self.timeout, 10)):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            return False

    def running_model(self) -> str | None:
        """The file name of the model Rasa runs now, or None when it runs none."""
        try:
            return str(self.call("GET", "/status")["model_file"])
        except urllib.error.HTTPError as error:
            if error.code == 409:
                return None
            raise

    def load(self, model: Path) -> None:
        """Ask Rasa to swap to another model file (it keeps the conversations)."""
        self.call("PUT", "/model", {"model_file": str(model)})


def check_content(settings: PublishSettings) -> str:
    """Step 1: run the content checks; refuse to go on if any fails."""
    problems = check(settings.content_dir, form=settings.request_form)
    for problem in problems:
        print(problem)
    if any(not problem.warning for problem in problems):
        print(summary(problems))
        raise PublishFailed("Not published: fix the problems above, then publish again.")
    warnings = len(problems)
    return f"Checked {settings.content_dir}: no problems" + (
        f", {warnings} warning(s) to look at." if warnings else "."
    )


def compile_questions(settings: PublishSettings) -> str:
    """Step 2: compile the FAQ example questions into training data."""
    changed = training.build(
        settings.content_dir, PROJECT_ROOT / "data", settings.training_data_dir
    )
    return f"Compiled the FAQ questions into {settings.training_data_dir} ({len(changed)} changed)."


def model_for_questions(settings: PublishSettings) -> Path:
    """The model file for the current training data (it may not exist yet)."""
    fingerprint = subprocess.run(
        [SCRIPTS / "model-fingerprint"],
        env=settings.script_environment(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return settings.models_dir / f"model-{fingerprint}.tar.gz"


def train_if_needed(settings: PublishSettings, model: Path) -> str:
    """Step 3: train a model unless one exists for these questions."""
    if model.exists():
        return f"The questions did not change: no training needed ({model.name} is up to date)."
    print("The questions changed: training a new model. This takes a few minutes…", flush=True)
    done = subprocess.run([SCRIPTS / "train"], env=settings.script_environment(), check=False)
    if done.returncode != 0 or not model.exists():
        raise PublishFailed("Training failed (see the messages above); nothing was loaded.")
    return f"Trained a new model for the changed questions: {model}."


def load_into_rasa(settings: PublishSettings, model: Path) -> str:
    """Step 4: make the running Rasa use the model, without a restart."""
    rasa = RasaApi(settings.rasa_url, settings.rasa_api_token, settings.load_timeout_seconds)
    if not rasa.reachable():
        return (
            f"Rasa is not running at {settings.rasa_url}: it will use {model.name} when it starts."
        )
    if not settings.rasa_api_token:
        raise PublishFailed(
            "RASA_API_TOKEN is not set, so the model cannot be loaded into the running Rasa. "
            "Set it to the token Rasa was started with (make run keeps it in var/dev-rasa-token)."
        )
    try:
        if rasa.running_model() == model.name:
            return f"Rasa at {settings.rasa_url} already runs {model.name}: nothing to load."
        rasa.load(model)
    except (urllib.error.URLError, OSError) as error:
        raise _load_failure(settings.rasa_url, model, error) from error
    return f"Loaded {model.name} into the running Rasa at {settings.rasa_url}, without a restart."


def _load_failure(url: str, model: Path, error: Exception) -> PublishFailed:
    """Say why Rasa did not take the model, and what to do."""
    if isinstance(error, urllib.error.HTTPError) and error.code == 401:
        return PublishFailed(
            f"Rasa at {url} refused the token: set RASA_API_TOKEN to the token Rasa was "
            "started with."
        )
    if isinstance(error, urllib.error.HTTPError):
        return PublishFailed(f"Rasa at {url} could not load {model.name} (HTTP {error.code}).")
    return PublishFailed(
        f"Rasa at {url} stopped answering while loading {model.name}: publish again once it "
        "is back."
    )


def publish(settings: PublishSettings) -> None:
    """Check, compile, train if needed, load; say what each step did."""
    print(f"1. {check_content(settings)}", flush=True)
    print(f"2. {compile_questions(settings)}", flush=True)
    model = model_for_questions(settings)
    print(f"3. {train_if_needed(settings, model)}", flush=True)
    print(f"4. {load_into_rasa(settings, model)}", flush=True)
    print("Published. Changed answers and messages are live already: the assistant rereads them.")


def main() -> int:
    """Publish from the command line."""
    try:
        publish(PublishSettings.from_env())
    except PublishFailed as failure:
        print(failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
