"""The upload service's settings: read once from the environment, with local defaults."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from uploads.settings import GIB, MIB, PROJECT_ROOT, Settings, SettingsError


def test_the_defaults_are_the_local_set_up() -> None:
    settings = Settings.from_env({"RECEPTION_API_TOKEN": "t"})
    assert (settings.host, settings.port) == ("127.0.0.1", 8090)
    assert settings.reception_url == "http://127.0.0.1:8080"
    assert settings.uploads_dir == PROJECT_ROOT / "var" / "uploads"
    assert (settings.max_file_bytes, settings.max_request_bytes) == (500 * MIB, 2 * GIB)
    assert settings.content_dir == PROJECT_ROOT / "content"


def test_every_setting_comes_from_its_variable() -> None:
    settings = Settings.from_env(
        {
            "RECEPTION_API_TOKEN": " t ",
            "UPLOADS_HOST": "0.0.0.0",
            "UPLOADS_PORT": "9100",
            "RECEPTION_URL": "https://reception.internal/",
            "UPLOADS_DIR": "/srv/uploads",
            "UPLOADS_MAX_FILE_BYTES": "1048576",
            "UPLOADS_MAX_REQUEST_BYTES": "4294967296",
            "CONTENT_DIR": "/srv/content",
            "UPLOADS_KEEP_PARTIAL_DAYS": "2",
            "UPLOADS_LINK_CACHE_SECONDS": "1.5",
            "UPLOADS_HOUSEKEEPING_INTERVAL_SECONDS": "60",
            "UPLOADS_FILES_KEY": base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("="),
        }
    )
    assert settings.reception_api_token == "t"
    assert (settings.host, settings.port) == ("0.0.0.0", 9100)
    assert settings.reception_url == "https://reception.internal"
    assert settings.uploads_dir == Path("/srv/uploads")
    assert (settings.max_file_bytes, settings.max_request_bytes) == (MIB, 4 * GIB)
    assert settings.content_dir == Path("/srv/content")
    assert settings.keep_partial_days == 2
    assert settings.link_cache_seconds == 1.5
    assert settings.housekeeping_interval_seconds == 60
    assert settings.key_for_files == bytes(range(32))


def test_without_a_key_the_files_key_comes_from_the_token() -> None:
    one = Settings.from_env({"RECEPTION_API_TOKEN": "t"}).key_for_files
    assert len(one) == 32
    assert one == Settings.from_env({"RECEPTION_API_TOKEN": "t"}).key_for_files
    assert one != Settings.from_env({"RECEPTION_API_TOKEN": "u"}).key_for_files


def test_reception_is_found_by_its_port_without_an_address() -> None:
    settings = Settings.from_env({"RECEPTION_API_TOKEN": "t", "RECEPTION_PORT": "8181"})
    assert settings.reception_url == "http://127.0.0.1:8181"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "RECEPTION_API_TOKEN"),
        ({"RECEPTION_API_TOKEN": "t", "UPLOADS_PORT": "http"}, "UPLOADS_PORT"),
        ({"RECEPTION_API_TOKEN": "t", "UPLOADS_MAX_FILE_BYTES": "500MB"}, "UPLOADS_MAX_FILE_BYTES"),
        (
            {"RECEPTION_API_TOKEN": "t", "UPLOADS_MAX_FILE_BYTES": str(3 * GIB)},
            "UPLOADS_MAX_REQUEST_BYTES",
        ),
        ({"RECEPTION_API_TOKEN": "t", "UPLOADS_FILES_KEY": "c2hvcnQ"}, "UPLOADS_FILES_KEY"),
        ({"RECEPTION_API_TOKEN": "t", "UPLOADS_FILES_KEY": "not base64!"}, "UPLOADS_FILES_KEY"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_the_variables_name(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)
