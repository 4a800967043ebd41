"""A small content folder for tests: two FAQ topics, a few messages, the reference facts."""

from __future__ import annotations

from pathlib import Path

REFERENCE = """\
centre:
  name: Test Centre
reception:
  phone: "+32 2 000 00 00"
  opening_hours: {en: weekdays, fr: en semaine}
privacy:
  retention_days_after_closing: 90
  conversation_idle_days: 30
"""
MESSAGES = """\
welcome: |-
  Hello, this is the {{ centre.name }}.

  Call {{ reception.phone }} ({{ reception.opening_hours }}).
ask_record: |-
  **{{ name }}**: {{ contains }}
menu:
  why: Why a second opinion?
"""
COSTS = """\
---
id: costs
title: How much does it cost?
examples:
  - how much does a second opinion cost
  - is it reimbursed by my insurance
  - what will I have to pay
  - are there fees for the consultation
  - is the opinion free of charge
  - who pays for the visit
  - can I afford this
  - will I get a bill afterwards
related: [delay]
review: 2027-01-01
---
Reception can tell you: call {{ reception.phone }}.

See also [how long it takes](faq:delay).
"""
DELAY = """\
---
id: delay
title: How long does it take?
examples:
  - how long does the process take
  - when will I know the result
  - how many weeks until the appointment
  - is there a waiting list
  - how soon can I be seen
  - will it delay my treatment
  - what is the timeline
  - how fast is the answer
related: []
review: 2027-01-01
---
Usually a few weeks. More on [our site](https://example.org/delays).
"""


def content(tmp_path: Path, *, privacy: bool = True) -> Path:
    """A small content folder that passes every check (without the privacy facts, if asked)."""
    root = tmp_path / "content"
    (root / "en" / "faq").mkdir(parents=True)
    reference = REFERENCE if privacy else REFERENCE.split("privacy:")[0]
    (root / "reference.yml").write_text(reference)
    (root / "safety.yml").write_text("medical:\n  en: [emergency]\n")
    (root / "en" / "messages.yml").write_text(MESSAGES)
    (root / "en" / "faq" / "costs.md").write_text(COSTS)
    (root / "en" / "faq" / "delay.md").write_text(DELAY)
    return root
