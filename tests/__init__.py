"""The test suite: unit, integration and end-to-end tests of every process."""
