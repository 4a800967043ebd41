"""Load the editors' content (content/) and render it by key, in the patient's language."""

from contentlib.store import ContentStore, UnknownKey

__all__ = ["ContentStore", "UnknownKey"]
