"""The typed keys under which the app keeps what its handlers share."""

from __future__ import annotations

import asyncio

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .attachments import Records
from .bot_client import BotClient
from .content import ContentDesk
from .login_limits import LoginLimiter
from .rasa_client import RasaClient
from .settings import Settings
from .staff_messages import StaffMessages

SETTINGS_KEY = web.AppKey("settings", Settings)
ENGINE_KEY = web.AppKey("engine", AsyncEngine)
SESSIONMAKER_KEY = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
BOT_KEY = web.AppKey("bot", BotClient)
TEMPLATES_KEY = web.AppKey("templates", jinja2.Environment)
CONTENT_KEY = web.AppKey("content", ContentDesk)
RASA_KEY = web.AppKey("rasa", RasaClient)
LOGIN_LIMITER_KEY = web.AppKey("login_limiter", LoginLimiter)
HOUSEKEEPING_KEY = web.AppKey("housekeeping", asyncio.Task[None])
STAFF_MESSAGES_KEY = web.AppKey("staff_messages", StaffMessages)
RECORDS_KEY = web.AppKey("records", Records)
