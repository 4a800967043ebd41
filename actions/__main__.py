"""Run the action server: `python -m actions`.

It is rasa-sdk's action server, plus the outbox that delivers what the actions hand to
reception and to patients. It refuses to start without the settings it needs.
"""

from __future__ import annotations

import logging
import sys

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from actions import services
from actions.settings import SettingsError

logger = logging.getLogger("actions")


async def start_delivering(app: Sanic) -> None:
    """Start the courier inside the server's event loop."""
    await services.start_courier()


async def stop_delivering(app: Sanic) -> None:
    """Stop the courier; what it has not delivered stays in the outbox."""
    await services.stop_courier()


def main() -> int:
    """Check the settings, register the actions and serve them."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = services.settings()
    except SettingsError as error:
        logger.error("%s", error)
        return 2
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor)
    app.register_listener(start_delivering, "before_server_start")
    app.register_listener(stop_delivering, "after_server_stop")
    app.run(
        host=settings.host,
        port=settings.port,
        single_process=True,
        access_log=False,
        motd=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
