"""API keys of the HTTP service: one actor per key, only the key's hash stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from docpost.schema.base import Base
from docpost.schema.types import UtcDateTime, utcnow


class ApiKey(Base):
    """A key made by `docpost actor-key ACTOR`. The key is shown once and never stored: a
    leaked database does not hand out working keys. An actor may hold several keys (one per
    client system), so a key can be replaced without a gap: make the new one, then revoke the
    old one (`docpost actor-key --revoke ID`). Revoked keys are kept, for the listing."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(ForeignKey("actors.actor"), index=True)
    # sha256 of the whole key, hex. Unique: the lookup on every HTTP request goes through it.
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The key's first characters, to tell keys apart in listings without revealing them.
    prefix: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Set by `docpost actor-key --revoke`; the HTTP service refuses the key from then on.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
