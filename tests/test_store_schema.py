"""The store's schema under Alembic: migrations match the models, old databases upgrade."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect, select, text

from crisislab.store import Base, GameRow, RunRow, Store, StoreError


def test_head_is_the_newest_revision() -> None:
    from alembic.script import ScriptDirectory

    from crisislab.migrations import HEAD, config

    assert ScriptDirectory.from_config(config()).get_heads() == [HEAD]


def test_the_migrated_schema_is_the_models(tmp_path: Path) -> None:
    """Every table declared on the store's Base (the classroom's too) has its migration,
    column for column: a model without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import crisislab.llm_store  # noqa: F401
    import crisislab.web.models  # noqa: F401

    store = Store(f"sqlite:///{tmp_path / 'new.db'}")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert {"runs", "games", "class_sessions", "class_worlds"} <= set(
        inspect(store.engine).get_table_names()
    )


def test_a_database_made_before_alembic_is_upgraded_keeping_its_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine, tables=[RunRow.__table__, GameRow.__table__])
    with engine.begin() as conn:
        conn.execute(
            insert(GameRow.__table__).values(
                id=7,
                created=dt.datetime(2026, 1, 1),
                updated=dt.datetime(2026, 1, 1),
                scenario="cuba-1962",
                version="1",
                content_hash="x",
                seats={},
                seed=1,
                status="running",
                turn=0,
                outcome=None,
                log=[],
                letters=[],
                notes="",
            )
        )
    engine.dispose()
    store = Store(url)
    assert "class_sessions" in inspect(store.engine).get_table_names()
    with store.engine.connect() as conn:
        assert conn.execute(select(GameRow.__table__.c.id)).scalars().all() == [7]
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"


def test_a_database_from_a_newer_crisislab_is_refused_in_words(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Store(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="revision 9999.*newer version"):
        Store(url)


def test_the_server_s_store_does_not_wait_for_the_disk_per_commit(tmp_path: Path) -> None:
    """The classroom's store puts its SQLite file in write-ahead mode, synced at
    checkpoints (a commit survives the server stopping, without a full sync each time);
    the commands' stores keep the default journal, so that a copy of the database file
    taken at any time holds every saved game."""
    url = f"sqlite:///{tmp_path / 'games.db'}"
    reader = Store(url)
    plain = Store(url, writable=True)
    for store in (reader, plain):
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "delete"
    from crisislab.web.classroom import Classroom

    writer = Store(url, writable=True)
    Classroom(writer)
    with writer.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    with writer.session() as session:
        session.add(
            GameRow(
                scenario="cuba-1962",
                version="2.3.0",
                content_hash="0" * 64,
                seats={"usa": "human"},
                seed=1,
            )
        )
    with reader.session() as session:  # the file stays readable as before
        assert session.scalar(select(GameRow.scenario)) == "cuba-1962"
