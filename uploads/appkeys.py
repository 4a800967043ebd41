"""The typed keys under which the upload service keeps what its handlers share."""

from __future__ import annotations

import asyncio
from weakref import WeakValueDictionary

import jinja2
from aiohttp import web

from contentlib import ContentStore

from .delivery import Courier
from .links import Links
from .partials import Partials
from .settings import Settings

SETTINGS_KEY = web.AppKey("settings", Settings)
CONTENT_KEY = web.AppKey("content", ContentStore)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
PARTIALS_KEY = web.AppKey("partials", Partials)
LINKS_KEY = web.AppKey("links", Links)
COURIER_KEY = web.AppKey("courier", Courier)
# A lock per upload (and per link, for creating uploads), forgotten once nobody holds it.
LOCKS_KEY = web.AppKey("locks", WeakValueDictionary[str, asyncio.Lock])
# The request writing each upload, by upload id.
WRITERS_KEY = web.AppKey("writers", dict[str, asyncio.Task[object]])
