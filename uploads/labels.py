"""The labels a patient can give a file: the records checklist's kinds, and "other"."""

from __future__ import annotations

from contentlib import ContentStore

# The checklist's keys (records.<key> in content/<lang>/records.yml), then "other".
CHECKLIST = ("reports", "imaging", "pathology", "blood")
OTHER = "other"
LABELS = (*CHECKLIST, OTHER)


def label_names(content: ContentStore, language: str) -> dict[str, str]:
    """Each label's name in the patient's language, in the order the page offers them."""
    names = {key: str(content.text(f"records.{key}.name", language)) for key in CHECKLIST}
    return {**names, OTHER: str(content.text("uploads.page.label_other", language))}
