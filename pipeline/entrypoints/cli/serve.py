"""The HTTP service's commands: `docpost serve` and `docpost actor-key ACTOR`.

FastAPI and uvicorn are imported inside the handlers, so that other commands do not pay for
loading them. `python -m docpost.pipeline.entrypoints.cli.serve serve ...` runs the same
commands on their own.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from docpost.pipeline.config import ConfigurationError, get_settings
from docpost.pipeline.entrypoints.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    CommandFactory,
    command_factory,
    json_option,
    sessions,
)

EXIT_FAILED = 1


def register_http_commands(command: CommandFactory) -> None:
    """Add `serve` and `actor-key` with `command(name, handler, help)`."""
    p = command(
        "serve",
        cmd_serve,
        "run the HTTP service (OpenAPI at /docs): requests go to the queue as with "
        "`docpost submit`; without DOCPOST_BROKER_URL an embedded worker runs in this process",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")

    p = command(
        "actor-key",
        cmd_actor_key,
        "make an API key for an existing actor and print it (once: only its hash is stored); "
        "--list lists the keys made (never the keys themselves), --revoke ID revokes one",
    )
    p.add_argument(
        "actor",
        metavar="ACTOR",
        nargs="?",
        help="the actor to make a key for (with --list: list its keys only)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--list",
        action="store_true",
        help="list the keys: id, actor, prefix, created, revoked",
    )
    which.add_argument(
        "--revoke",
        type=int,
        metavar="KEY_ID",
        help="revoke the key with this id (from --list): the HTTP service refuses it (401)",
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from docpost.pipeline.db import session_factory
    from docpost.pipeline.entrypoints.http import create_app
    from docpost.pipeline.logs import configure_cli_logging
    from docpost.tasks.app import broker_is_embedded

    # No migration here: several servers may start at once; `docpost init` upgrades the schema
    # (and `docpost load` / `actor-key`, which come first on a new database, do too).
    sessions = session_factory(get_settings().database_url)
    if broker_is_embedded():
        from docpost.pipeline.entrypoints.cli.queue import NO_BROKER_NOTE

        print(f"docpost: {NO_BROKER_NOTE}", file=sys.stderr)
    app = create_app(sessions, embedded_worker=True)
    # Logging as every docpost process has it (pipeline.logs: DOCPOST_LOG_FORMAT): uvicorn's
    # own configuration is skipped (log_config=None), its loggers write through ours.
    configure_cli_logging(daemon=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        **proxy_options(get_settings().forwarded_allow_ips),
        log_level="info",
        log_config=None,
    )
    return EXIT_OK


def proxy_options(forwarded_allow_ips: str) -> dict[str, Any]:
    """uvicorn's proxy options for DOCPOST_FORWARDED_ALLOW_IPS. Behind a trusted reverse proxy
    its X-Forwarded-Proto and -For are the call's scheme and client, so the 202's Location and
    the Secure cookie follow the public https address (the proxy passes the public Host on).
    Unset: proxy headers off altogether, not uvicorn's default of trusting 127.0.0.1 (or its
    own FORWARDED_ALLOW_IPS), so no setting outside docpost's decides it."""
    if not forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips}


def cmd_actor_key(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.http.auth import UnknownActor, create_key

    if args.list:
        return _list_keys(args)
    if args.revoke is not None:
        if args.actor is not None:
            return _usage(args, "--revoke takes a key id and no ACTOR")
        return _revoke_key(args)
    if args.actor is None:
        return _usage(args, "name an ACTOR to make a key for, or use --list or --revoke KEY_ID")
    factory = sessions(migrate=True)
    try:
        with factory() as session, session.begin():
            key = create_key(session, args.actor)
    except UnknownActor as exc:
        return _refused(args, "actor.unknown", str(exc))
    if args.json:
        print(json.dumps({"actor": args.actor, "key": key}))
    else:
        print(key)
        print(
            f"the API key of {args.actor}: shown only now, store it safely "
            "(send it as `Authorization: Bearer <key>`, or paste it into the sign-in form at / "
            "in a browser)",
            file=sys.stderr,
        )
    return EXIT_OK


def _refused(args: argparse.Namespace, code: str, message: str) -> int:
    """A key command that names an unknown actor or key: exit 1 with the reason."""
    if args.json:
        print(json.dumps({"error": {"code": code, "message": message}}))
    else:
        print(f"docpost: {message}", file=sys.stderr)
    return EXIT_FAILED


def _usage(args: argparse.Namespace, message: str) -> int:
    if args.json:
        print(json.dumps({"error": {"code": "usage", "message": message}}))
    else:
        print(f"docpost actor-key: {message}", file=sys.stderr)
    return EXIT_USAGE


def _list_keys(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.output import readable_time
    from docpost.pipeline.entrypoints.http.auth import UnknownActor, list_keys

    try:
        with sessions(migrate=True)() as session:
            keys = list_keys(session, args.actor)
    except UnknownActor as exc:
        # A lookup that finds nothing exits 1 (CONTRACT.md), as `trace UNKNOWN` does.
        return _refused(args, "actor.unknown", str(exc))
    if args.json:
        print(json.dumps({"keys": keys}))
    elif not keys:
        print("no API keys" + (f" for {args.actor}" if args.actor else ""))
    else:
        from docpost.pipeline.entrypoints.cli.render_text import table  # rich: text only

        print(
            table(
                ["id", "actor", "prefix", "created", "revoked"],
                [
                    [
                        str(k["id"]),
                        k["actor"],
                        k["prefix"] + "...",
                        readable_time(k["created_at"]),
                        readable_time(k["revoked_at"]) or "",
                    ]
                    for k in keys
                ],
            )
        )
    return EXIT_OK


def _revoke_key(args: argparse.Namespace) -> int:
    from docpost.pipeline.entrypoints.cli.output import readable_time
    from docpost.pipeline.entrypoints.http.auth import UnknownKey, revoke_key

    try:
        with sessions(migrate=True)() as session, session.begin():
            key, revoked_now = revoke_key(session, args.revoke)
    except UnknownKey as exc:
        return _refused(args, "key.unknown", str(exc))
    if args.json:
        print(json.dumps({**key, "revoked_now": revoked_now}))
    elif revoked_now:
        print(f"revoked API key {key['id']} ({key['prefix']}...) of {key['actor']}")
    else:
        print(
            f"API key {key['id']} ({key['prefix']}...) of {key['actor']} was already revoked "
            f"at {readable_time(key['revoked_at'])}"
        )
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """These commands alone, with the same options as under `docpost`."""
    common = json_option()
    parser = argparse.ArgumentParser(prog="docpost", parents=[common])
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    register_http_commands(command_factory(sub, common))
    args = parser.parse_args(argv)
    try:
        get_settings()
    except ConfigurationError as exc:
        print(f"docpost: configuration refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
