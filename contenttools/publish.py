"""Publish the editors' content to the running assistant.

    make publish        (or: python -m contenttools.publish)

1. checks the content (as `make content-check` does) and stops at the first sign of trouble;
2. compiles the FAQ example questions into Rasa training data ($TRAINING_DATA_DIR);
3. trains a new model only if the questions changed (into $MODELS_DIR);
4. loads that model into the running Rasa server ($RASA_URL) through its HTTP API
   (PUT /model, with $RASA_API_TOKEN), without a restart: conversations carry on.

Answers and messages need no model: the running processes reread content/ when a file changes.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp

from contenttools import training
from contenttools.check import check, summary
from contenttools.settings import PROJECT_ROOT, PublishSettings
from rasa_api import RasaApi, RasaApiError, Reason

SCRIPTS = PROJECT_ROOT / "scripts"


class PublishFailed(Exception):
    """Publishing stopped; the message says why and what to do."""


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
    return asyncio.run(_load_into_rasa(settings, model))


async def _load_into_rasa(settings: PublishSettings, model: Path) -> str:
    """Step 4, through Rasa's HTTP API."""
    async with aiohttp.ClientSession() as session:
        rasa = RasaApi(
            settings.rasa_url, settings.rasa_api_token, session, settings.load_timeout_seconds
        )
        if not await rasa.reachable():
            return (
                f"Rasa is not running at {settings.rasa_url}: "
                f"it will use {model.name} when it starts."
            )
        try:
            if await rasa.running_model() == model.name:
                return f"Rasa at {settings.rasa_url} already runs {model.name}: nothing to load."
            await rasa.load(model)
        except RasaApiError as error:
            raise _load_failure(settings.rasa_url, model, error) from error
    return f"Loaded {model.name} into the running Rasa at {settings.rasa_url}, without a restart."


def _load_failure(url: str, model: Path, error: RasaApiError) -> PublishFailed:
    """Say why Rasa did not take the model, and what to do."""
    if error.reason is Reason.TOKEN_MISSING:
        return PublishFailed(
            "RASA_API_TOKEN is not set, so the model cannot be loaded into the running Rasa. "
            "Set it to the token Rasa was started with (make run keeps it in var/dev-rasa-token)."
        )
    if error.status == 401:
        return PublishFailed(
            f"Rasa at {url} refused the token: set RASA_API_TOKEN to the token Rasa was "
            "started with."
        )
    if error.status is not None:
        return PublishFailed(f"Rasa at {url} could not load {model.name} (HTTP {error.status}).")
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
