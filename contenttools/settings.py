"""The publishing tool's settings: the only place in contenttools/ that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import envreader as read
import requestform

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PublishSettings:
    """Where the content, the training data and the models are, and how to reach Rasa."""

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_api_token: str = ""
    content_dir: Path = PROJECT_ROOT / "content"
    training_data_dir: Path = PROJECT_ROOT / "build" / "rasa"
    models_dir: Path = PROJECT_ROOT / "models"
    load_timeout_seconds: float = 600.0
    # The request form whose messages the content must hold (None: a content folder alone).
    request_form: Path | None = requestform.DECLARATION
    environment: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls) -> PublishSettings:
        """Build the settings from environment variables, with the local defaults."""
        env = os.environ
        return cls(
            # Not read.url: a wrong address is reported when publishing reaches Rasa.
            rasa_url=read.text(env, "RASA_URL", cls.rasa_url).rstrip("/"),
            rasa_api_token=read.text(env, "RASA_API_TOKEN", cls.rasa_api_token),
            content_dir=_folder(env, "CONTENT_DIR", cls.content_dir),
            training_data_dir=_folder(env, "TRAINING_DATA_DIR", cls.training_data_dir),
            models_dir=_folder(env, "MODELS_DIR", cls.models_dir),
            environment=dict(env),
        )

    def script_environment(self) -> dict[str, str]:
        """The environment of the training scripts: these folders, and the rest as inherited."""
        return {
            **self.environment,
            "CONTENT_DIR": str(self.content_dir),
            "TRAINING_DATA_DIR": str(self.training_data_dir),
            "MODELS_DIR": str(self.models_dir),
        }


def _folder(env: Mapping[str, str], name: str, default: Path) -> Path:
    """Return a folder from a variable, made absolute."""
    return Path(read.text(env, name, str(default))).resolve()
