"""Apply the migrations of phases 0..N with Alembic.

Each phase folder keeps its own `migrations/` directory; the revisions form one linear chain
(phase N's first revision follows phase N-1's last), and Alembic is given only the directories of
the composed phases, so `head` is the last revision of phase N.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

from fintech_core.db.urls import sqlalchemy_url

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, version_dirs: Sequence[Path]) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("version_locations", " ".join(str(d) for d in version_dirs))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url))
    return cfg


def upgrade(url: str, version_dirs: Sequence[Path]) -> None:
    command.upgrade(alembic_config(url, version_dirs), "head")
