"""Alembic's environment: migrations run on the connection that ``upgrade`` passes in
(or, from the ``alembic`` command, on ``sqlalchemy.url`` or ``CRISISLAB_DB``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import crisislab.web.models  # noqa: F401  (its tables are part of the schema)
from crisislab.store import Base, default_url

target_metadata = Base.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.get_main_option("sqlalchemy.url") or default_url()
    engine = create_engine(url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
