"""Tests of reception: its API, inbox, workflow, migrations and command line."""
