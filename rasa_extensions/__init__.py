"""Code that runs inside the Rasa server (Python 3.10): a REST channel and a tracker store."""
