"""Soak runs: many patients at once, and outages while they talk (make soak)."""
