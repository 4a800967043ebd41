"""How well the trained model understands the held-out split, per language.

    make nlu-report
    python -m bench.nlu_report parse --model M --out F   (Rasa's environment: parse every example)
    python -m bench.nlu_report score F [--json]           (app environment: the figures)

For each language folder of tests/nlu/ (never trained on) it prints the intent macro-F1, the FAQ
topics' top-1 accuracy, the share of messages answered above the fallback threshold, the
cancer-type accuracy (routing as the actions do: the entity, else the whole message, matched
against data/cancer_types.yml) and the worst confusions. `--json` prints the figures for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_MACRO_F1 = 0.95
FALLBACK = "nlu_fallback"


def held_out(folder: Path) -> list[tuple[str, str, str | None]]:
    """The (text, intent, cancer type) of every example of one language's held-out split."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for message in load_data(str(folder)).intent_examples:
        types = [e["value"] for e in message.get("entities") or [] if e["entity"] == "cancer_type"]
        examples.append((message.get("text"), message.get("intent"), types[0] if types else None))
    return examples


async def predictions(model: Path, texts: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    """Parse every text with the trained model (loaded once), as the Rasa server would."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    parsed: dict[str, list[dict[str, Any]]] = {}
    for key, group in texts.items():
        parsed[key] = [await agent.parse_message(text) for text in group]
    return parsed


def route(taxonomy: Any, text: str, parsed: dict[str, Any]) -> str | None:
    """The cancer type the actions would take from a parsed message."""
    values = [e["value"] for e in parsed.get("entities") or [] if e["entity"] == "cancer_type"]
    found = next((t for t in (taxonomy.match(str(v)) for v in values) if t), None)
    found = found or taxonomy.match(text)
    return found.id if found else None


def figures(examples: list[tuple[str, str, str | None]], parsed: list[dict[str, Any]]) -> dict:
    """The figures of one language."""
    from sklearn.metrics import f1_score

    from actions.taxonomy import CancerTaxonomy

    taxonomy = CancerTaxonomy.load(ROOT / "data" / "cancer_types.yml")
    truth = [intent for _, intent, _ in examples]
    # The classifier's own best guess (FallbackClassifier puts nlu_fallback before it).
    top = [
        next((str(r["name"]) for r in p.get("intent_ranking") or [] if r["name"] != FALLBACK), "")
        for p in parsed
    ]
    chosen = [str(p["intent"]["name"]) for p in parsed]
    faq = [(t, p) for t, p in zip(truth, top, strict=True) if t.startswith("faq_")]
    typed = [(text, kind, p) for (text, _, kind), p in zip(examples, parsed, strict=True) if kind]
    confusions = Counter((t, c) for t, c in zip(truth, chosen, strict=True) if t != c)
    return {
        "examples": len(examples),
        "macro_f1": float(f1_score(truth, top, average="macro", labels=sorted(set(truth)))),
        "faq_top1": sum(t == p for t, p in faq) / len(faq) if faq else None,
        "answered": sum(c != FALLBACK for c in chosen) / len(chosen),
        "cancer_type_accuracy": (
            sum(route(taxonomy, text, p) == kind for text, kind, p in typed) / len(typed)
            if typed
            else None
        ),
        "cancer_type_examples": len(typed),
        "confusions": [[t, c, n] for (t, c), n in confusions.most_common(8)],
    }


def parse(model: Path, folder: Path, out: Path) -> None:
    """Parse each language's held-out examples with the model, and save them with the truth."""
    languages = sorted(p for p in folder.iterdir() if p.is_dir())
    examples = {language.name: held_out(language) for language in languages}
    texts = {language: [text for text, _, _ in rows] for language, rows in examples.items()}
    parsed = asyncio.run(predictions(model, texts))
    saved = {
        language: {"examples": rows, "parsed": _plain(parsed[language])}
        for language, rows in examples.items()
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(saved), encoding="utf-8")


def _plain(parsed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the figures need of a parse result, as plain JSON."""
    return [
        {
            "intent": {"name": p["intent"]["name"]},
            "intent_ranking": [{"name": r["name"]} for r in p.get("intent_ranking") or []],
            "entities": [
                {"entity": e["entity"], "value": e["value"]} for e in p.get("entities") or []
            ],
        }
        for p in parsed
    ]


def score(saved: Path) -> dict[str, dict]:
    """The figures of every language, from the saved parses."""
    rows = json.loads(saved.read_text(encoding="utf-8"))
    return {
        language: figures([tuple(e) for e in row["examples"]], row["parsed"])
        for language, row in rows.items()
    }


def show(report: dict[str, dict]) -> None:
    """Print the figures as a short report."""
    for language, row in report.items():
        print(f"{language}: {row['examples']} held-out examples")
        print(f"  intent macro-F1        {row['macro_f1']:.3f}  (aim: {TARGET_MACRO_F1})")
        print(f"  FAQ top-1 accuracy     {row['faq_top1']:.3f}")
        print(f"  answered (no fallback) {row['answered']:.3f}")
        accuracy = row["cancer_type_accuracy"]
        shown = "n/a" if accuracy is None else f"{accuracy:.3f}"
        print(f"  cancer-type accuracy   {shown}  ({row['cancer_type_examples']} examples)")
        for expected, chosen, count in row["confusions"]:
            print(f"    {count:>3}  {expected} -> {chosen}")


def main() -> None:
    """Parse the held-out split, or score saved parses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    parsing = commands.add_parser("parse", help="parse the held-out split (Rasa's environment)")
    parsing.add_argument("--model", type=Path, required=True)
    parsing.add_argument("--held-out", type=Path, default=ROOT / "tests" / "nlu")
    parsing.add_argument("--out", type=Path, required=True)
    scoring = commands.add_parser("score", help="print the figures (app environment)")
    scoring.add_argument("parses", type=Path)
    scoring.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.command == "parse":
        parse(args.model, args.held_out, args.out)
    elif args.json:
        print(json.dumps(score(args.parses)))
    else:
        show(score(args.parses))


if __name__ == "__main__":
    main()
