"""The access log of the upload service: method, path, status and time, with no link token.

A link's token is in its path (`/records/{token}/…`) and works as a key to the patient's
request, so the log shows `/records/…/files/<upload id>` instead.
"""

from __future__ import annotations

import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

TOKEN_IN_PATH = re.compile(r"^/records/[^/]+")


def without_token(path: str) -> str:
    """The path with the link's token left out."""
    return TOKEN_IN_PATH.sub("/records/…", path)


class TokenlessAccessLogger(AbstractAccessLogger):
    """Log one line per request, never its token, query string or headers."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write the method, the path without its token, the status and the duration."""
        path = without_token(request.path)
        self.logger.info("%s %s %d %.3fs", request.method, path, response.status, time)
