"""Reception's service: tickets, the staff inbox, the editors' pages, and its API."""
