"""The database as the tasks see it: one engine per process, created on first use.

Created lazily inside the pool process, never in the parent before it forks, so no
connection is shared between processes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.config import get_settings
from docpost.pipeline.db import session_factory


def worker_sessions() -> sessionmaker[Session]:
    return session_factory(get_settings().database_url, pre_ping=False)
