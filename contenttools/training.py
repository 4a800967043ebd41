"""Compile the editors' FAQ questions into Rasa training data, under build/rasa/.

    python -m contenttools.training [--content content] [--data data] [--out build/rasa]

The output is generated, never edited by hand: the domain (data/domain, the request form
declared in data/request_form.yml, and one faq_<id> intent per topic), the FAQ examples per
language, and the rules that answer any FAQ
question, in or out of the request form. Files are only rewritten when they change, so
the model fingerprint changes only when the questions do.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

import requestform
from contentlib.faq import FaqTopic, load_topics

FAQ_ACTION = "action_answer_faq"
FORM = "request_form"
GENERATED = "# Generated from {source} by contenttools.training; do not edit.\n"
HEADER = GENERATED.format(source="content/*/faq/") + 'version: "3.1"\n\n'


def _block(lines: list[str], indent: int) -> str:
    """Indent lines as YAML."""
    pad = " " * indent
    return "".join(f"{pad}{line}\n" for line in lines)


def domain_yaml(topics: list[FaqTopic]) -> str:
    """The FAQ intents, as a domain file."""
    intents = [f"- {topic.intent}" for topic in topics]
    return HEADER + "intents:\n" + _block(intents, 2)


def form_domain_yaml(declaration: Path) -> str:
    """The request form, its slots and its actions, as a domain file."""
    domain = requestform.load(declaration).domain()
    body = yaml.safe_dump(domain, sort_keys=False, allow_unicode=True, width=100)
    return GENERATED.format(source=f"data/{declaration.name}") + body


def nlu_yaml(topics: list[FaqTopic]) -> str:
    """The FAQ example questions of one language, as NLU training data."""
    out = [HEADER + "nlu:\n"]
    for topic in topics:
        examples = [f"- {' '.join(example.split())}" for example in topic.examples]
        out.append(f"  - intent: {topic.intent}\n    examples: |\n" + _block(examples, 6))
    return "".join(out)


def rules_yaml(topics: list[FaqTopic]) -> str:
    """Rules answering any FAQ question, outside the form and in the middle of it."""
    alternatives = _block([f"- intent: {topic.intent}" for topic in topics], 10)
    return (
        HEADER + "rules:\n"
        "  - rule: Answer an FAQ question\n"
        "    condition: [active_loop: null]\n"
        "    steps:\n"
        "      - or:\n" + alternatives + f"      - action: {FAQ_ACTION}\n\n"
        "  - rule: Answer an FAQ question in the middle of the request, then continue\n"
        f"    condition: [active_loop: {FORM}]\n"
        "    steps:\n"
        "      - or:\n" + alternatives + f"      - action: {FAQ_ACTION}\n"
        f"      - action: {FORM}\n"
        f"      - active_loop: {FORM}\n"
    )


def write_if_changed(path: Path, text: str) -> bool:
    """Write a file only if its content differs; tell whether it did."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def language_folders(content: Path) -> list[Path]:
    """Language folders that hold FAQ topics."""
    return sorted(p for p in content.iterdir() if (p / "faq").is_dir())


def build(content: Path, data: Path, out: Path) -> list[Path]:
    """Generate the training data; return the files that changed."""
    per_language = {
        folder.name: list(load_topics(folder / "faq").values())
        for folder in language_folders(content)
    }
    all_topics = {topic.id: topic for topics in per_language.values() for topic in topics}
    topics = [all_topics[key] for key in sorted(all_topics)]
    wanted: dict[Path, str] = {
        out / "domain" / "faq.yml": domain_yaml(topics),
        out / "domain" / "request_form.yml": form_domain_yaml(data / "request_form.yml"),
        out / "rules" / "faq.yml": rules_yaml(topics),
    }
    for source in sorted((data / "domain").glob("*.yml")):
        wanted[out / "domain" / source.name] = source.read_text(encoding="utf-8")
    for language, language_topics in per_language.items():
        wanted[out / "nlu" / language / "faq.yml"] = nlu_yaml(language_topics)
    changed = [path for path, text in wanted.items() if write_if_changed(path, text)]
    for stale in (p for p in out.rglob("*.yml") if p not in wanted):
        stale.unlink()
        changed.append(stale)
    return changed


def main() -> None:
    """Generate build/rasa from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=Path("content"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--out", type=Path, default=Path("build/rasa"))
    args = parser.parse_args()
    changed = build(args.content, args.data, args.out)
    print(f"training data: {len(changed)} file(s) changed in {args.out}")


if __name__ == "__main__":
    main()
