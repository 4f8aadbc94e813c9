"""The page's session: a person posts an API key once (the sign-in form); the browser then keeps
a cookie that holds no key, only the key's id, an expiry and a random nonce, signed with a
server secret (HMAC-SHA256). Every request looks the key up again by its id, so a revoked key
(`docpost actor-key --revoke`) or a duty taken away ends the session at once.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's link or form
makes the browser send it) and Secure over HTTPS. POSTs made while signed in (sign-out)
carry a CSRF token derived from the session's nonce, checked in constant time.

The secret is DOCPOST_SESSION_SECRET; without it each server process draws one at start-up,
so sessions end when the server restarts and several server processes need the setting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from functools import cache

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from docpost.pipeline.config import get_settings
from docpost.pipeline.entrypoints.http.auth import Caller, key_digest
from docpost.schema import Actor, ApiKey

SESSION_COOKIE = "docpost_session"
SESSION_SECONDS = 8 * 3600
SECRET_SETTING = "DOCPOST_SESSION_SECRET"


@cache
def server_secret() -> bytes:
    configured = get_settings().session_secret
    return configured.encode("utf-8") if configured else secrets.token_bytes(32)


def _mac(payload: bytes) -> str:
    digest = hmac.new(server_secret(), payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class PageSession:
    key_id: int
    expires: int
    nonce: str

    @property
    def csrf(self) -> str:
        """The token a signed-in form posts back (bound to this session)."""
        return _mac(f"csrf:{self.nonce}".encode())


def seal(session: PageSession) -> str:
    payload = json.dumps(
        {"k": session.key_id, "e": session.expires, "n": session.nonce}, separators=(",", ":")
    ).encode()
    body = base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")
    return f"{body}.{_mac(payload)}"


def unseal(value: str | None, now: float | None = None) -> PageSession | None:
    """The session a cookie holds; None when it is missing, forged, malformed or expired."""
    if not value or len(value) > 400 or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(payload)
        session = PageSession(int(data["k"]), int(data["e"]), str(data["n"]))
    except (ValueError, KeyError, TypeError):
        return None
    if not hmac.compare_digest(mac, _mac(payload)):
        return None
    if session.expires < (time.time() if now is None else now):
        return None
    return session


def start(session: Session, key: str) -> PageSession | None:
    """A new session for a valid key; None for an unknown or revoked one."""
    if not key or len(key) > 200 or "\x00" in key:
        return None
    key_id = session.scalar(
        select(ApiKey.id).where(ApiKey.key_sha256 == key_digest(key), ApiKey.revoked_at.is_(None))
    )
    if key_id is None:
        return None
    return PageSession(key_id, int(time.time()) + SESSION_SECONDS, secrets.token_urlsafe(16))


def caller_of(session: Session, page_session: PageSession) -> Caller | None:
    """Who the session's key stands for now (None once the key is revoked)."""
    key = session.get(ApiKey, page_session.key_id)
    if key is None or key.revoked_at is not None:
        return None
    actor = session.get(Actor, key.actor)
    if actor is None:  # pragma: no cover - the foreign key keeps the actor
        return None
    return Caller(actor.actor, frozenset(actor.duty_names))


def set_cookie(response: Response, request: Request, page_session: PageSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        seal(page_session),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def forget(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_matches(page_session: PageSession, token: str) -> bool:
    return bool(token) and hmac.compare_digest(token, page_session.csrf)
