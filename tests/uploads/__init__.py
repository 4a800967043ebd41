"""Tests of the upload service: its tus endpoint, its page, and resuming across a restart."""
