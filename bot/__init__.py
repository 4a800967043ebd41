"""The patient-facing channels (Telegram, web chat), the safety layer and the Rasa client."""
