"""``crisislab serve``: the classroom web app (needs the ``web`` extra)."""

from __future__ import annotations

import typer

from crisislab.errors import check_range, fail


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``crisislab`` app."""

    @app.command()
    def serve(
        host: str = typer.Option(
            "127.0.0.1",
            help="Address to listen on (0.0.0.0: every network the laptop is on, for a class).",
        ),
        port: int = typer.Option(8000, help="Port to listen on (1 to 65535)."),
        db: str | None = typer.Option(
            None,
            "--db",
            help="SQLAlchemy URL of the database "
            "(default: CRISISLAB_DB, else crisislab.db in your "
            "data folder; PostgreSQL: postgresql+psycopg://...).",
        ),
    ) -> None:
        """Run the classroom web app: a facilitator creates a class session, people join
        with its code, and a class plays the crisis in teams, in parallel worlds, with a
        debrief.

        Open http://HOST:PORT/ to create a session; the facilitator's page shows the
        join code and a QR code. The JSON API is documented at /docs."""
        from crisislab.extras import missing_extra
        from crisislab.store import Store, StoreError

        check_range("--port", port, 1, 65535, "e.g. --port 8000")
        with missing_extra("web"):
            import fastapi  # noqa: F401
            import multipart  # noqa: F401
            import segno  # noqa: F401
            import uvicorn
        try:
            store = Store(_db_url(db), writable=True)
        except StoreError as e:
            fail(str(e), "give --db a SQLAlchemy URL such as sqlite:///class.db", code=1)
        except ImportError as e:
            fail(
                f"cannot open the database: {e}",
                "install its driver (PostgreSQL: pip "
                "install 'crisislab[web]'), or use sqlite:///FILE",
            )
        from crisislab.web.app import create_app

        typer.echo(
            f"crisislab classroom on http://{host}:{port}/ (database {store.shown}); "
            "stop it with Ctrl+C"
        )
        uvicorn.run(create_app(store=store), host=host, port=port, log_level="warning")


def _db_url(db: str | None) -> str | None:
    """``postgresql://`` means the psycopg 3 driver (the one the web extra installs)."""
    if db and db.startswith("postgresql://"):
        return "postgresql+psycopg://" + db.removeprefix("postgresql://")
    return db
