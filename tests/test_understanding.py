"""The trained model understands every language on the held-out split (tests/nlu/<lang>/)."""

from __future__ import annotations

import os
import subprocess

import pytest

from bench.nlu_report import score
from harness.stack import ROOT, model_path

pytestmark = pytest.mark.e2e

LANGUAGES = ("en", "fr", "nl")
MIN_MACRO_F1 = 0.95
MIN_FAQ_TOP1 = 0.95
MIN_ANSWERED = 0.95


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """`make nlu-report`'s figures for the current model: parsed in Rasa's environment."""
    parses = tmp_path_factory.mktemp("nlu") / "parses.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env |= {"RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore"}
    python = str(ROOT / ".venv-rasa" / "bin" / "python")
    command = ["-m", "bench.nlu_report", "parse", "--model", str(model_path())]
    subprocess.run(
        [python, *command, "--out", str(parses)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=900,
        check=True,
    )
    return score(parses)


@pytest.mark.parametrize("language", LANGUAGES)
def test_intents_and_faq_topics_are_understood(report: dict, language: str) -> None:
    """Intent macro-F1, FAQ top-1 and the share answered above the fallback, per language."""
    figures = report[language]
    print(language, {k: v for k, v in figures.items() if k != "confusions"})
    assert figures["examples"] >= 300
    assert figures["macro_f1"] >= MIN_MACRO_F1
    assert figures["faq_top1"] >= MIN_FAQ_TOP1
    assert figures["answered"] >= MIN_ANSWERED
