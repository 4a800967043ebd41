"""The action server's settings: the only place in actions/ that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where reception and the editors' content are, and how to reach them."""

    reception_url: str
    reception_api_token: str
    content_dir: Path
    cancer_types_file: Path
    phone_region: str
    reception_timeout_seconds: float

    @classmethod
    def from_env(cls) -> Settings:
        """Build the settings from environment variables, with local defaults."""
        return cls(
            reception_url=os.environ.get("RECEPTION_URL", "http://127.0.0.1:8080").rstrip("/"),
            reception_api_token=os.environ.get("RECEPTION_API_TOKEN", ""),
            content_dir=Path(os.environ.get("CONTENT_DIR", PROJECT_ROOT / "content")),
            cancer_types_file=Path(
                os.environ.get("CANCER_TYPES_FILE", PROJECT_ROOT / "data" / "cancer_types.yml")
            ),
            phone_region=os.environ.get("PHONE_DEFAULT_REGION", "BE"),
            reception_timeout_seconds=float(os.environ.get("RECEPTION_TIMEOUT_SECONDS", "10")),
        )
