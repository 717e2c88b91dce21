"""The store's schema under Alembic: every table of :mod:`crisislab.store` and of the
modules that add tables to its ``Base`` (the classroom's in :mod:`crisislab.web.models`).

:func:`upgrade` brings a database to the newest revision; a database made before the
schema was under Alembic (its ``runs`` and ``games`` tables made directly) is first
stamped at the first revision, which is exactly those two tables. ``Store`` calls it
when the database is not already at :data:`HEAD`, so opening an up-to-date database
costs one query and never imports Alembic.

To write a migration for a new table: declare the model on ``crisislab.store.Base``, add
a file under ``versions/`` whose ``down_revision`` is the current head, set :data:`HEAD`
to its revision, and run ``tests/test_store_schema.py``: it checks that the migrated
schema matches the models, table by table and column by column.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

HEAD = "0003"  # the newest revision under versions/ (a test checks it)
BASELINE = "0001"  # the runs and games tables, as made before Alembic
FOLDER = Path(__file__).resolve().parent


def config(connection: Connection | None = None):  # type: ignore[no-untyped-def]
    """An Alembic configuration for this folder, using ``connection`` if given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(FOLDER))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def current(connection: Connection) -> list[str]:
    """The database's revisions (none for a database Alembic has not seen)."""
    from sqlalchemy import text

    if not inspect(connection).has_table("alembic_version"):
        return []
    return [
        str(v)
        for v in connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    ]


def upgrade(engine: Engine) -> None:
    """Bring the database to :data:`HEAD`, in one transaction where the database allows."""
    from alembic import command

    with engine.begin() as conn:
        cfg = config(conn)
        if not current(conn) and inspect(conn).has_table("runs"):
            command.stamp(cfg, BASELINE)  # made by an older crisislab, before Alembic
        command.upgrade(cfg, "head")
