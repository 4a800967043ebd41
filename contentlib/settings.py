"""The publishing tool's settings: the only place in contentlib/ that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PublishSettings:
    """Where the content, the training data and the models are, and how to reach Rasa."""

    rasa_url: str
    rasa_api_token: str
    content_dir: Path
    training_data_dir: Path
    models_dir: Path
    load_timeout_seconds: float = 600.0
    environment: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls) -> PublishSettings:
        """Build the settings from environment variables, with the local defaults."""
        env = os.environ
        return cls(
            rasa_url=env.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
            rasa_api_token=env.get("RASA_API_TOKEN", ""),
            content_dir=Path(env.get("CONTENT_DIR", PROJECT_ROOT / "content")).resolve(),
            training_data_dir=Path(
                env.get("TRAINING_DATA_DIR", PROJECT_ROOT / "build" / "rasa")
            ).resolve(),
            models_dir=Path(env.get("MODELS_DIR", PROJECT_ROOT / "models")).resolve(),
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
