"""A durable outbox: work is written to SQL first, then delivered with retries and back-off.

The bot and the action server each keep one in their own database. Nothing is lost when the
receiver is down or the process is killed: a job stays until it is delivered, and a key makes
putting the same job twice harmless.
"""

from outbox.migrate import upgrade
from outbox.store import Job, NewJob, Outbox, erase_lane_statement
from outbox.waiters import Waiters
from outbox.worker import Backoff, Done, GiveUp, Purger, RetryLater, Worker
from sqlengine import create_engine, normalise_url

__all__ = [
    "Backoff",
    "Done",
    "GiveUp",
    "Job",
    "NewJob",
    "Outbox",
    "Purger",
    "RetryLater",
    "Waiters",
    "Worker",
    "create_engine",
    "erase_lane_statement",
    "normalise_url",
    "upgrade",
]
