"""The one place that builds backends from settings."""

from __future__ import annotations

from dataclasses import dataclass

from trendreel.db.engine import Database
from trendreel.files.store import FileStore, open_file_store
from trendreel.settings import Settings


@dataclass
class App:
    settings: Settings
    db: Database
    files: FileStore

    def close(self) -> None:
        self.db.dispose()


def build_app(settings: Settings) -> App:
    settings.home.mkdir(parents=True, exist_ok=True)
    return App(settings=settings, db=Database(settings.database_url),
               files=open_file_store(settings.files_url, settings.s3))
