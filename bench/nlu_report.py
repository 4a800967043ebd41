"""Summarise `rasa test nlu` on the held-out split: intent macro-F1, cancer-type F1, confusions.

python -m bench.nlu_report build/nlu-report   (run by `make nlu-report`)
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

TARGET_MACRO_F1 = 0.95


def main() -> None:
    """Print the figures from Rasa's report files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--confusions", type=int, default=12, help="how many pairs to list")
    args = parser.parse_args()

    intents = json.loads((args.report / "intent_report.json").read_text())
    entities = json.loads((args.report / "DIETClassifier_report.json").read_text())
    errors = json.loads((args.report / "intent_errors.json").read_text())

    macro = intents["macro avg"]["f1-score"]
    cancer = entities.get("cancer_type", {})
    examples = int(intents["macro avg"]["support"])
    print(f"held-out examples: {examples}")
    print(f"intent macro-F1: {macro:.3f} (aim: {TARGET_MACRO_F1})")
    print(f"intent accuracy: {intents['accuracy']:.3f}")
    print(
        f"cancer_type entity F1: {cancer.get('f1-score', float('nan')):.3f} "
        f"(support {cancer.get('support', 0)})"
    )
    weakest = sorted(
        (
            (name, row["f1-score"])
            for name, row in intents.items()
            if isinstance(row, dict) and name not in ("macro avg", "weighted avg", "micro avg")
        ),
        key=lambda item: item[1],
    )[:8]
    print("weakest intents: " + ", ".join(f"{name} {f1:.2f}" for name, f1 in weakest))
    pairs = Counter((error["intent"], error["intent_prediction"]["name"]) for error in errors)
    print(f"confusion pairs (expected -> predicted), {len(errors)} errors:")
    for (expected, predicted), count in pairs.most_common(args.confusions):
        print(f"  {count:>3}  {expected} -> {predicted}")


if __name__ == "__main__":
    main()
