"""the duties of M5 as extended: existing actors keep what they could do

Before this revision, any known actor could enter and confirm orders and load any catalog,
actors and duties included (so grant itself every duty), and releasing revenue needed
post_sales_documents. The new duties are granted so that nothing that worked stops working,
except what was the hole:

1. every actor holding post_sales_documents gets maintain_sales_orders and recognize_revenue
   (it entered orders and released revenue before);
2. the system actor (DOCPOST_SYSTEM_ACTOR when the migration runs, default erp), if it
   exists, gets every duty: it is the administrator of the catalog, and it could have granted
   itself every duty before, so this adds nothing it could not take;
3. if it does not exist, the actors that loaded a catalog before (a succeeded upsert_catalog
   in their name) get every duty instead; if there is none either, nobody does and a warning
   says how to name an administrator.

Actors without post_sales_documents get nothing: they could enter orders before only through
the hole. No column changes: duties are rows of actor_duties (actor, duty).

Revision ID: 0004
Revises: 0003
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

NEW_DUTIES = (
    "maintain_sales_orders",
    "maintain_master_data",
    "manage_actors",
    "recognize_revenue",
)
# Every duty of pipeline.duties as of this revision (a migration does not follow later code).
ALL_DUTIES = (
    "post_sales_documents",
    "register_non_readable_serials",
    "correct_serial_numbers",
    *NEW_DUTIES,
)

actor_duties = sa.table("actor_duties", sa.column("actor", sa.String), sa.column("duty", sa.String))
actors = sa.table("actors", sa.column("actor", sa.String))
requests = sa.table(
    "requests",
    sa.column("actor", sa.String),
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
)


def _system_actor() -> str:
    # The setting as the installation runs with it; the default if the settings cannot load.
    try:
        from docpost.pipeline.config import get_settings

        return get_settings().system_actor
    except Exception:
        return "erp"


def _grant(connection: sa.Connection, actor: str, duties: Sequence[str]) -> None:
    held = set(
        connection.scalars(sa.select(actor_duties.c.duty).where(actor_duties.c.actor == actor))
    )
    rows = [{"actor": actor, "duty": d} for d in duties if d not in held]
    if rows:
        connection.execute(actor_duties.insert(), rows)


def upgrade() -> None:
    connection = op.get_bind()
    existing = set(connection.scalars(sa.select(actors.c.actor)))
    if not existing:
        return  # a new database: its first catalog load brings the actors and their duties
    posters = connection.scalars(
        sa.select(actor_duties.c.actor).where(actor_duties.c.duty == "post_sales_documents")
    ).all()
    for actor in posters:
        _grant(connection, actor, ("maintain_sales_orders", "recognize_revenue"))

    system = _system_actor()
    if system in existing:
        administrators = [system]
    else:
        loaders = connection.scalars(
            sa.select(requests.c.actor)
            .where(requests.c.kind == "upsert_catalog", requests.c.status == "succeeded")
            .distinct()
        )
        administrators = sorted(set(loaders) & existing)
    for actor in administrators:
        _grant(connection, actor, ALL_DUTIES)
    if not administrators:
        log.warning(
            "docpost 0004: the system actor %r does not exist and no actor loaded a catalog "
            "before: no actor holds manage_actors or maintain_master_data. Name an "
            "administrator: INSERT INTO actor_duties (actor, duty) VALUES ('<actor>', "
            "'manage_actors'), ('<actor>', 'maintain_master_data')",
            system,
        )


def downgrade() -> None:
    op.get_bind().execute(actor_duties.delete().where(actor_duties.c.duty.in_(NEW_DUTIES)))
