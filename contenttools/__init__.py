"""The editors' tools: check the content, compile it into training data, publish it.

The running processes load `contentlib` alone; these tools build on it and run from the command
line (`make content-check`, `make publish`) or, for the check, from reception's editor pages.
"""
