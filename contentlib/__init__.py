"""Load the editors' content (content/) and render it by key, in the patient's language."""

from contentlib.faq import FaqTopic
from contentlib.store import ContentStore, Markdown, UnknownKey

__all__ = ["ContentStore", "FaqTopic", "Markdown", "UnknownKey"]
