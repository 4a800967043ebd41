"""Tests of the bot: its channels, the safety layer and the Rasa client."""
