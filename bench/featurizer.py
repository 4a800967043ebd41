"""What the sentence-embedding featurizer adds to a turn, against the same stack without it.

In one run: trains a variant of the model from the same training data, with nlu/config.yml's
pipeline minus the E5 SentenceEmbeddingFeaturizer. The EmbeddingIntentClassifier needs its
sentence vectors, so the variant puts Rasa's CountVectorsFeaturizer (the classifier's own
character n-grams) and LogisticRegressionClassifier in its place; the rest of the pipeline and
every policy stay as they are. Then starts the stack on the production model (`make train`)
and on the variant, one after the other, and plays bench.latency's patient journey against
three entry points, one patient at a time and then several at once:

- parse only: Rasa's `POST /model/parse`, the NLU and nothing else;
- bare Rasa: Rasa's REST channel, NLU, dialogue policies and the action server;
- full stack: the bot's web chat endpoint, which adds the bot and its semantic safety layer
  (the same in both stacks, so the difference is what Rasa's featurizer costs).

It prints each model's p50, p95 and throughput, and the ratios with/without the featurizer.
Run with `make bench-featurizer` (options: `python -m bench.featurizer --help`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.latency import JOURNEY, Result, Send, run, via_bot, via_rasa
from harness.stack import ROOT, Stack, model_path
from rasa_api import PARSE_PATH

FEATURIZER = "rasa_extensions.embedding_featurizer.SentenceEmbeddingFeaturizer"
CLASSIFIER = "rasa_extensions.embedding_classifier.EmbeddingIntentClassifier"
LEXICAL_OPTIONS = ("min_ngram", "max_ngram", "min_df")
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
WORKDIR = ROOT / "build" / "bench-featurizer"
VARIANT = "model-without-featurizer"
MODELS = ("with featurizer", "without")


def classifier_defaults() -> dict[str, Any]:
    """The EmbeddingIntentClassifier's default options, read in Rasa's environment."""
    script = (
        "import json; from rasa_extensions.embedding_classifier import EmbeddingIntentClassifier"
        " as c; print(json.dumps(c.get_default_config()))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    printed = subprocess.run(
        [RASA_PYTHON, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(printed.splitlines()[-1]))


def without_featurizer(config: dict[str, Any], classifier: dict[str, Any]) -> dict[str, Any]:
    """The config with the featurizer dropped and the classifier swapped for Rasa's own pair."""
    pipeline = []
    for component in config["pipeline"]:
        if component["name"] == FEATURIZER:
            continue
        if component["name"] == CLASSIFIER:
            options = {**classifier, **component}
            lexical = {key: options[key] for key in LEXICAL_OPTIONS}
            pipeline.append({"name": "CountVectorsFeaturizer", "analyzer": "char_wb", **lexical})
            pipeline.append({"name": "LogisticRegressionClassifier"})
            continue
        pipeline.append(component)
    return {**config, "pipeline": pipeline}


def write_variant_config() -> Path:
    """Write nlu/config.yml without the featurizer into build/ and return its path."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "nlu" / "config.yml").read_text(encoding="utf-8"))
    variant = without_featurizer(config, classifier_defaults())
    path = WORKDIR / "config.yml"
    path.write_text(yaml.safe_dump(variant, sort_keys=False), encoding="utf-8")
    return path


def train_variant() -> Path:
    """Train the model without the featurizer into build/ and return its path.

    It shares `make train`'s cache, so only the components the change touches are retrained.
    """
    config_path = write_variant_config()
    arguments = subprocess.run(
        [ROOT / "scripts" / "training-data"], check=True, capture_output=True, text=True
    ).stdout.split()
    arguments[arguments.index("--config") + 1] = str(config_path)
    models, log = WORKDIR / "models", WORKDIR / "train.log"
    print(f"training {VARIANT} with {config_path} (log: {log})", file=sys.stderr)
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_CACHE_DIRECTORY": str(ROOT / "var" / "rasa-cache"),
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONWARNINGS": "ignore",
    }
    with log.open("w") as output:
        trained = subprocess.run(
            [RASA, "train", *arguments, "--out", models, "--fixed-model-name", VARIANT],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if trained.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"training {VARIANT} failed:\n{tail}")
    return models / f"{VARIANT}.tar.gz"


def via_parse(url: str, token: str) -> Send:
    """Send a turn's text to Rasa's NLU alone."""

    async def send(session: aiohttp.ClientSession, conversation: str, text: str) -> None:
        parse = f"{url}{PARSE_PATH}"
        async with session.post(parse, params={"token": token}, json={"text": text}) as response:
            response.raise_for_status()
            assert (await response.json())["intent"]

    return send


async def measure(stack: Stack, patients: int, scenarios: dict[str, int]) -> dict[str, Result]:
    """Play the journey through every entry point of one stack, in every scenario."""
    targets = {
        "parse only": via_parse(stack.url("rasa"), stack.rasa_token),
        "bare Rasa": via_rasa(stack.url("rasa")),
        "full stack": via_bot(stack.url("bot")),
    }
    return {
        f"{name}, {label}": await run(send, patients, workers)
        for label, workers in scenarios.items()
        for name, send in targets.items()
    }


def on_model(model: Path, patients: int, scenarios: dict[str, int]) -> dict[str, Result]:
    """Start a stack on one model, measure it and stop it."""
    print(f"measuring {model.name}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-featurizer-") as workdir:
        stack = Stack(
            workdir=Path(workdir), model=model, extra_env={"CHAT_MESSAGES_PER_MINUTE": "600"}
        )
        stack.start()
        try:
            return asyncio.run(measure(stack, patients, scenarios))
        finally:
            stack.stop()


def figures(result: Result) -> tuple[float, float, float]:
    """A result's p50 and p95 in milliseconds, and its turns per second."""
    return result.p50, result.p95, result.throughput


def cells(values: tuple[float, ...], digits: int) -> str:
    """Values right-aligned in columns of the table."""
    return "".join(f"{value:>8.{digits}f}" for value in values)


def report(results: dict[str, dict[str, Result]], patients: int) -> None:
    """Print both models' figures side by side, and their ratios."""
    with_it, without = (results[model] for model in MODELS)
    print(f"\njourney of {len(JOURNEY)} turns; {patients} patients per scenario")
    print("p50 and p95 in ms, throughput in turns/s; ratio = with featurizer / without\n")
    blocks = (*MODELS, "ratio")
    print(f"{'':<28}" + "".join(f"{block:>24}" for block in blocks))
    print(f"{'scenario':<28}" + f"{'p50':>8}{'p95':>8}{'turns/s':>8}" * len(blocks))
    for row, one in with_it.items():
        ratio = tuple(a / b for a, b in zip(figures(one), figures(without[row]), strict=True))
        print(
            f"{row:<28}{cells(figures(one), 1)}{cells(figures(without[row]), 1)}{cells(ratio, 2)}"
        )


def main() -> None:
    """Train the variant, measure both models one after the other, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=6, help="journeys per scenario")
    parser.add_argument("--concurrency", type=int, default=4, help="patients at once")
    args = parser.parse_args()
    variant = train_variant()
    scenarios = {"1 at a time": 1, f"{args.concurrency} at once": args.concurrency}
    models = dict(zip(MODELS, (model_path(), variant), strict=True))
    results = {label: on_model(model, args.patients, scenarios) for label, model in models.items()}
    report(results, args.patients)


if __name__ == "__main__":
    main()
