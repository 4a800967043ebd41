"""Tests of the action server's actions, with real trackers and a real dispatcher."""
