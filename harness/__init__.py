"""The product as real local processes, and a Telegram Bot API emulator, for tests and bench."""
