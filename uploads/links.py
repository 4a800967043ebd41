"""What reception says about upload links, believed for a few seconds.

Every tus request names its link, and a large upload makes many of them: asking reception each
time would be slow and would hammer it. A link's answer (live, unknown or gone) is kept for
`seconds`; "reception is unreachable" is never kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .reception_client import LinkGone, LinkUnknown, ReceptionClient, UploadLink

# What a link's token can look like (reception makes url-safe secrets); reception is not asked
# about anything else.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


@dataclass
class Links:
    """Look links up through reception, with a short memory of each answer."""

    reception: ReceptionClient
    seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _known: dict[str, tuple[float, UploadLink | LinkUnknown | LinkGone]] = field(
        default_factory=dict, init=False, repr=False
    )

    async def look_up(self, token: str) -> UploadLink:
        """The live link with this token; raise LinkUnknown, LinkGone or ReceptionUnavailable."""
        if not TOKEN_SHAPE.match(token):
            raise LinkUnknown()
        now = self.clock()
        remembered = self._known.get(token)
        if remembered is None or now - remembered[0] >= self.seconds:
            try:
                answer: UploadLink | LinkUnknown | LinkGone = await self.reception.link(token)
            except (LinkUnknown, LinkGone) as error:
                answer = error
            self._forget_old(now)
            remembered = self._known[token] = (now, answer)
        answer = remembered[1]
        if isinstance(answer, UploadLink):
            return answer
        raise LinkGone(answer.code) if isinstance(answer, LinkGone) else LinkUnknown()

    def forget(self, token: str) -> None:
        """Ask reception again next time (its files changed)."""
        self._known.pop(token, None)

    def _forget_old(self, now: float) -> None:
        """Drop the answers that are too old to be used, so memory stays small."""
        for token in [t for t, (at, _) in self._known.items() if now - at >= self.seconds]:
            del self._known[token]
