"""End-to-end tests: the whole stack, driven as a patient or a receptionist would."""
