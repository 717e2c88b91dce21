"""``crisislab llm``: the stored replies of language-model leaders (list, export,
import), and the ``--llm-cache`` option of the commands that take agents."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from crisislab.errors import SafeGroup, fail

llm_app = typer.Typer(
    help="The stored replies of language-model leaders: list them, "
    "export a study's replies to one file, import them elsewhere.",
    no_args_is_help=True,
    cls=SafeGroup,
)

CACHE_HELP = (
    "Stored replies of llm agents: use (ask only what is not stored), only "
    "(ask nothing: rerun offline), off (ask everything again)."
)
MAX_IMPORT = 512 * 1024 * 1024  # bytes
TYPES: dict[str, type | tuple[type, ...]] = {
    "key": str,
    "model": str,
    "endpoint": str,
    "prompt_hash": str,
    "params": dict,
    "request": dict,
    "reply": str,
    "error": str,
    "tokens_in": int,
    "tokens_out": int,
    "latency_s": (int, float),
    "cost": (int, float),
}


# the one declaration of --llm-cache, taken by every command that takes agents
LLM_CACHE_OPTION: Any = typer.Option("use", "--llm-cache", help=CACHE_HELP)


def uses_llm(specs: Iterable[str]) -> bool:
    """Whether any of these seat specs (``ACTOR=AGENT`` or ``AGENT``) is an llm agent."""
    return any(
        s.partition("=")[2].strip().startswith("llm:") or s.strip().startswith("llm:")
        for s in specs
    )


@contextmanager
def llm_run(cache: str, db: str | None, quiet: bool = False) -> Iterator[Any]:
    """The llm agents' settings for one command: how they use the replies stored in the
    database (``db``; None: the default one), and their counts."""
    from crisislab.agents.llm import llm_session
    from crisislab.llm_store import StoredReplies

    with llm_session(cache, StoredReplies(db), progress=not quiet) as settings:
        yield settings


def local_workers(specs: Iterable[str], workers: int | None, backend: str) -> int | None:
    """Language-model seats run in this process (their replies and counts live here)."""
    if not uses_llm(specs):
        return workers
    if backend != "local":
        fail("language-model agents run on the local backend", "drop --backend ray")
    return 1


def store_links(settings: Any, db: str | None, run_id: int | None) -> None:
    """Link a stored run to the replies it used (for ``llm export --run``)."""
    if run_id is None or not settings.keys:
        return
    from crisislab.llm_store import replies_of

    replies_of(db).link_run(run_id, settings.keys)


def describe(counts: list[dict[str, Any]]) -> list[str]:
    """The models' counts in words, one line a seat."""
    lines = []
    for c in counts:
        cost = f", cost {c['cost']:.4g}" if c["cost"] else ""
        lines.append(
            f"{c['actor']} ({c['model']}): {c['decisions']:,} decisions, "
            f"{c['requests']:,} requests ({c['calls']:,} asked now, {c['cached']:,} from the "
            f"store), {c['retries']:,} retries, {c['invalid']:,} unusable replies, "
            f"{c['errors']:,} endpoint errors, {c['fallbacks']:,} left to the fallback, "
            f"{c['letters']:,} letters; {c['tokens_in']:,} tokens in, "
            f"{c['tokens_out']:,} out{cost}"
        )
    return lines


def _replies_of(db: str | None) -> Any:
    from crisislab.llm_store import replies_of

    return replies_of(db)


@llm_app.command("list")
def list_cmd(
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the database."),
    format: str = typer.Option("text", "--format", "-f", help="text or json"),
) -> None:
    """What is stored: per model and endpoint, the replies, errors, tokens and cost."""
    if format not in ("text", "json"):
        fail(f"--format must be text or json, not '{format}'")
    replies = _replies_of(db)
    rows = replies.summary()
    if format == "json":
        typer.echo(json.dumps({"replies": rows}, indent=2))
        return
    if not rows:
        typer.echo(
            f"no replies stored in {replies.store.shown}; run a study with an llm "
            "agent, or `crisislab llm import FILE`"
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for col in ("model", "endpoint", "replies", "errors", "tokens in", "tokens out", "cost"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            r["model"],
            r["endpoint"],
            f"{r['replies']:,}",
            f"{r['errors']:,}",
            f"{r['tokens_in']:,}",
            f"{r['tokens_out']:,}",
            f"{r['cost']:.4g}",
        )
    Console(soft_wrap=False).print(table)


@llm_app.command("export")
def export_cmd(
    file: Path = typer.Argument(
        ..., help="The file to write: .json (one document) or .jsonl (a reply a line)."
    ),
    study: int | None = typer.Option(
        None,
        "--study",
        "--run",
        help="Only the replies this "
        "stored study used: a run of simulate or a tournament, "
        "by its id (see `crisislab runs`).",
    ),
    model: str | None = typer.Option(None, "--model", help="Only this model's replies."),
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the database."),
) -> None:
    """Write stored replies to one file, for a study to be rerun elsewhere: with --study,
    exactly the replies that study used, so the file alone reruns it offline."""
    from crisislab.llm_store import EXPORT_FORMAT, EXPORT_VERSION, as_json

    if file.suffix not in (".json", ".jsonl"):
        fail(f"{file}: the export is written as .json or .jsonl", "e.g. study.json")
    replies = _replies_of(db)
    head: dict[str, Any] = {"format": EXPORT_FORMAT, "version": EXPORT_VERSION}
    if study is not None:
        head["study"] = _study(replies.store, study)
    items = [as_json(r) for r in replies.rows(run_id=study, model=model)]
    if not items:
        which = f" used by study {study}" if study is not None else ""
        which += f" of {model}" if model else ""
        hint = (
            "it used no language-model agent, or was run before its replies were linked"
            if study is not None and not model
            else "see what is stored with `crisislab llm list`"
        )
        fail(f"no replies{which} stored in {replies.store.shown}", hint, code=1)
    head["replies"] = len(items)
    if file.suffix == ".jsonl":
        text = (
            "\n".join(json.dumps(x, ensure_ascii=False, sort_keys=True) for x in [head, *items])
            + "\n"
        )
    else:
        text = (
            json.dumps({**head, "items": items}, ensure_ascii=False, indent=1, sort_keys=True)
            + "\n"
        )
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {file}: {e.strerror}", "choose a writable path", code=1)
    of = f" of study {study}" if study is not None else ""
    typer.echo(f"wrote {len(items):,} replies{of} to {file}")


def _study(store: Any, run_id: int) -> dict[str, Any]:
    """What the export says of the study it holds: enough to rerun it."""
    row = store.run(run_id)
    if row is None:
        fail(
            f"there is no stored study {run_id} in {store.shown}",
            "see the stored runs and tournaments with `crisislab runs`",
        )
    results = row.results if isinstance(row.results, dict) else {}
    kind = "tournament" if results.get("kind") == "tournament" else "simulate"
    return {
        "run_id": row.id,
        "kind": kind,
        "scenario": row.scenario,
        "version": row.version,
        "content_hash": row.content_hash,
        "seed": row.seed,
        "runs": row.runs,
        "agents": row.agents,
        "what_ifs": row.what_ifs,
    }


def _read_export(file: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from crisislab.files import check_regular
    from crisislab.llm_store import EXPORT_FORMAT, FIELDS

    check_regular(file, MAX_IMPORT, "export file")
    text = file.read_text(encoding="utf-8")
    head: Any = None
    items: Any = None
    try:
        if file.suffix == ".jsonl":
            lines = [json.loads(x) for x in text.splitlines() if x.strip()]
            head, items = (lines[0], lines[1:]) if lines else ({}, [])
        else:
            doc = json.loads(text)
            head, items = doc, doc.get("items") if isinstance(doc, dict) else None
    except (ValueError, AttributeError) as e:
        fail(f"{file} is not JSON: {e}", "give a file written by `crisislab llm export`")
    if (
        not isinstance(head, dict)
        or head.get("format") != EXPORT_FORMAT
        or not isinstance(items, list)
    ):
        fail(
            f"{file} is not an export of crisislab's llm replies",
            "give a file written by `crisislab llm export`",
        )
    for n, item in enumerate(items, start=1):
        missing = [f for f in FIELDS if not isinstance(item, dict) or f not in item]
        if missing:
            fail(
                f"{file}: reply {n} lacks {', '.join(missing)}",
                "give a file written by `crisislab llm export`",
            )
    return head, items


@llm_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="A file written by `crisislab llm export`."),
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the database."),
) -> None:
    """Add the replies of an export file to the database (those already there stay)."""
    head, items = _read_export(file)
    added, present = _replies_of(db).add_json(items)
    study = head.get("study") if isinstance(head.get("study"), dict) else None
    of = (
        f" of study {study.get('run_id')} ({study.get('kind')} on {study.get('scenario')} "
        f"{study.get('version')}, seed {study.get('seed')})"
        if study
        else ""
    )
    typer.echo(
        f"imported {added:,} replies{of} from {file}"
        + (f" ({present:,} already stored)" if present else "")
    )
