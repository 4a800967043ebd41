"""The access log of reception: method, path, status and time; never query strings or headers.

A query string can hold a patient's name (the inbox search) and a Referer the same URL, so
aiohttp's default format, which logs both, is not used.
"""

from __future__ import annotations

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Log one line per request without the parts that may carry patient details."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write the method, the path without its query, the status and the duration."""
        self.logger.info("%s %s %d %.3fs", request.method, request.path, response.status, time)
