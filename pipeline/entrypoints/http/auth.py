"""API keys: one actor per key; who calls is the key's actor, never what a body says.

How callers authenticate:

- API clients send `Authorization: Bearer <key>` on every call, reads and posts alike; the
  JSON API takes nothing else (no cookie: a browser sends cookies by itself, and a key must
  never live in one).
- People in a browser sign in once with the form at `/` (a POST from the page itself; never
  a key in the address, see pipeline.entrypoints.http.pages). They then hold a signed session
  cookie that holds no key (pipeline.entrypoints.http.session), honoured by the page's own
  routes only, document downloads included (`/office/documents/{id}`).

What a key may do (DOMAIN.md M5, checked again by the pipeline itself):

- post a request: the duties its kind needs, from the one kind table the pipeline's services
  check too (pipeline.runner.kinds: e.g. `upsert_order` needs `maintain_sales_orders`, a catalog
  `maintain_master_data` and, with actors, `manage_actors`). The pipeline decides the rest
  (blanks need `register_non_readable_serials`; a catalog grants only duties its actor holds)
  and rejects with `actor.missing_duty`, `actor.grant_not_held`, ...
- read orders, journals, documents, PDFs, traces and the journal page:
  `post_sales_documents` (they show customers, prices and serials).
- read a request's outcome: its own actor, or any actor with `post_sales_documents`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from docpost.pipeline.duties import POST_SALES_DOCUMENTS, Need
from docpost.pipeline.entrypoints.http.errors import ApiError
from docpost.pipeline.runner.kinds import needs_of
from docpost.schema import Actor, ApiKey
from docpost.schema.types import utcnow

KEY_PREFIX = "dpk_"
# Longest key accepted before hashing: ours are 47 characters; this only bounds the work.
MAX_KEY_LENGTH = 200

READ_DUTY = POST_SALES_DOCUMENTS


class UnknownActor(LookupError):
    pass


# --- keys ------------------------------------------------------------------------------------


def key_digest(key: str) -> str:
    """sha256 of the key. A fast hash is enough here: the keys are 32 random bytes, so there
    is nothing to guess by brute force that a slow password hash would protect; and it lets
    a key be looked up by its digest (an index) on every call."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, actor: str) -> str:
    """A new key for an existing actor; only its digest is stored. Returns the key (shown
    once: it cannot be recovered later)."""
    if session.get(Actor, actor) is None:
        raise UnknownActor(f"actor {actor!r} does not exist; load it with the catalog first")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(actor=actor, key_sha256=key_digest(key), prefix=key[:12]))
    return key


class UnknownKey(LookupError):
    pass


def list_keys(session: Session, actor: str | None = None) -> list[dict[str, Any]]:
    """The keys made, oldest first, as plain dicts: id, actor, prefix, created_at and
    revoked_at (None while valid). Never the key: it is not stored. UnknownActor when
    `actor` is given and does not exist (an actor without keys lists none)."""
    query = select(ApiKey).order_by(ApiKey.id)
    if actor is not None:
        if session.get(Actor, actor) is None:
            raise UnknownActor(f"actor {actor!r} does not exist; no keys can be listed for it")
        query = query.where(ApiKey.actor == actor)
    return [_key_row(k) for k in session.scalars(query)]


def revoke_key(session: Session, key_id: int) -> tuple[dict[str, Any], bool]:
    """Revoke the key with this id (from `list_keys`); the HTTP service refuses it from the
    next call on. Returns the key's row and whether it was revoked just now (False: it was
    already). UnknownKey when there is no such key."""
    key = session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise UnknownKey(f"no API key has the id {key_id}; `docpost actor-key --list` lists them")
    revoked_now = key.revoked_at is None
    if revoked_now:
        key.revoked_at = utcnow()
    return _key_row(key), revoked_now


def _key_row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "actor": key.actor,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "revoked_at": None if key.revoked_at is None else key.revoked_at.isoformat(),
    }


@dataclass(frozen=True)
class Caller:
    actor: str
    duties: frozenset[str]

    def has(self, duty: str) -> bool:
        return duty in self.duties

    def missing(self, kind: str, command: object) -> Need | None:
        """The first duty a request of `kind` needs (pipeline.runner.kinds) that this caller
        lacks."""
        return next((n for n in needs_of(kind, command) if n.duty not in self.duties), None)

    def require(self, duty: str, what: str) -> None:
        if duty not in self.duties:
            raise ApiError(
                403,
                "actor.missing_duty",
                f"actor {self.actor!r} may not {what}; that needs the duty {duty}",
                rule="M5",
                duty=duty,
            )


def caller_for_key(session: Session, key: str) -> Caller | None:
    """The caller a valid key stands for; None for an unknown or revoked key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    actor_name = session.scalar(
        select(ApiKey.actor).where(
            ApiKey.key_sha256 == key_digest(key), ApiKey.revoked_at.is_(None)
        )
    )
    if actor_name is None:
        return None
    actor = session.get(Actor, actor_name)
    if actor is None:  # pragma: no cover - the foreign key keeps the actor
        return None
    return Caller(actor.actor, frozenset(actor.duty_names))


# --- FastAPI dependencies ----------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key made with `docpost actor-key ACTOR`.",
)


def sessions_of(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


Sessions = Annotated[sessionmaker[Session], Depends(sessions_of)]

_MISSING = ApiError(
    401,
    "auth.missing",
    "this call needs an API key: send `Authorization: Bearer <key>` "
    "(keys are made with `docpost actor-key ACTOR`)",
    headers={"WWW-Authenticate": "Bearer"},
)


def _authenticate(sessions: sessionmaker[Session], key: str | None) -> Caller:
    if not key:
        raise _MISSING
    with sessions() as session:
        caller = caller_for_key(session, key)
        revoked = caller is None and _is_revoked(session, key)
    if revoked:
        raise ApiError(
            401,
            "auth.revoked",
            "the API key was revoked; ask an operator for a new one (`docpost actor-key ACTOR`)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if caller is None:
        raise ApiError(
            401,
            "auth.invalid",
            "the API key is not known; make one with `docpost actor-key ACTOR`",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return caller


def _is_revoked(session: Session, key: str) -> bool:
    if len(key) > MAX_KEY_LENGTH:
        return False
    revoked_at = session.scalar(
        select(ApiKey.revoked_at).where(ApiKey.key_sha256 == key_digest(key))
    )
    return revoked_at is not None


def bearer_caller(
    sessions: Sessions,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller of any JSON API call, a read or a post: Bearer only. (The raw-key
    `docpost_key` cookie that reads once took is gone: nothing sets it since the page's
    session cookie, and a key must never live in a cookie.)"""
    return _authenticate(sessions, credentials.credentials if credentials else None)


def reader(caller: Annotated[Caller, Depends(bearer_caller)]) -> Caller:
    """A caller allowed to read sales data."""
    caller.require(READ_DUTY, "read orders, journals, documents or traces")
    return caller


Poster = Annotated[Caller, Depends(bearer_caller)]
AnyReader = Annotated[Caller, Depends(bearer_caller)]
SalesReader = Annotated[Caller, Depends(reader)]
