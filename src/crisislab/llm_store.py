"""Every request a language-model leader makes and the reply it got, in the database of
runs and games, so that a study reruns offline with the same replies.

The agents are handed a cache by the interface of :mod:`crisislab.agents.llm_cache`;
this module is its implementation on the database (:class:`StoredReplies`, which the
commands' ``--llm-cache`` and ``--db`` hand over), with the tables it keeps. A reply is
keyed by what determines it (see :func:`crisislab.agents.llm_cache.reply_key`). It keeps
the reply's text, or the endpoint's error, with the tokens in and out, the latency and
the cost. ``llm_run_replies`` links a stored run to the replies it used, so that
``crisislab llm export --run ID`` moves exactly those.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from crisislab.agents.llm_cache import FIELDS, StoredReply
from crisislab.store import Base, Store, default_url

EXPORT_FORMAT = "crisislab-llm-replies"
EXPORT_VERSION = 1


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class LLMReplyRow(Base):
    """One request to a model and what came back."""

    __tablename__ = "llm_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    model: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(500))
    prompt_hash: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    reply: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")  # the endpoint's error, if any
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    latency_s: Mapped[float] = mapped_column(Float, default=0.0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)


class LLMRunReplyRow(Base):
    """A stored run and a reply it used."""

    __tablename__ = "llm_run_replies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    key: Mapped[str] = mapped_column(String(64))


def as_json(row: LLMReplyRow) -> dict[str, Any]:
    out = {f: getattr(row, f) for f in FIELDS}
    out["created"] = row.created.isoformat() if row.created else None
    return out


def _reply(row: LLMReplyRow) -> StoredReply:
    return StoredReply(**{f: getattr(row, f) for f in FIELDS})


class ReplyStore:
    """The replies of one database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()  # one writer at a time: SQLite takes no more

    def get(self, key: str) -> StoredReply | None:
        with self.lock, self.store.session() as s:
            row = s.scalars(select(LLMReplyRow).where(LLMReplyRow.key == key)).first()
            return None if row is None else _reply(row)

    def get_many(self, keys: list[str]) -> list[StoredReply]:
        out: list[StoredReply] = []
        with self.lock, self.store.session() as s:
            for i in range(0, len(keys), 500):
                out += [
                    _reply(row)
                    for row in s.scalars(
                        select(LLMReplyRow).where(LLMReplyRow.key.in_(keys[i : i + 500]))
                    )
                ]
        return out

    def put(self, replies: list[StoredReply], replace: bool = False) -> None:
        """Store replies in one transaction; one already stored under its key stays,
        unless ``replace``."""
        if not replies:
            return
        rows = [LLMReplyRow(**{f: getattr(r, f) for f in FIELDS}) for r in replies]
        with self.lock, self.store.session() as s:
            keys = [r.key for r in rows]
            old = {
                r.key: r for r in s.scalars(select(LLMReplyRow).where(LLMReplyRow.key.in_(keys)))
            }
            for row in rows:
                if row.key in old and replace:
                    s.delete(old.pop(row.key))
                    s.flush()
                if row.key not in old:
                    s.add(row)
                    old[row.key] = row

    def link_run(self, run_id: int, keys: Iterable[str]) -> None:
        with self.store.session() as s:
            s.add_all([LLMRunReplyRow(run_id=run_id, key=k) for k in sorted(set(keys))])

    def rows(self, run_id: int | None = None, model: str | None = None) -> Iterator[LLMReplyRow]:
        query = select(LLMReplyRow).order_by(LLMReplyRow.id)
        if run_id is not None:
            keys = select(LLMRunReplyRow.key).where(LLMRunReplyRow.run_id == run_id)
            query = query.where(LLMReplyRow.key.in_(keys))
        if model is not None:
            query = query.where(LLMReplyRow.model == model)
        with self.store.session() as s:
            yield from s.scalars(query).all()

    def add_json(self, items: Iterable[dict[str, Any]]) -> tuple[int, int]:
        """Add exported replies; return (added, already there)."""
        added = present = 0
        with self.store.session() as s:
            known = set(s.scalars(select(LLMReplyRow.key)))
            for item in items:
                if item["key"] in known:
                    present += 1
                    continue
                fields = {f: item[f] for f in FIELDS}
                created = item.get("created")
                row = LLMReplyRow(
                    **fields, created=dt.datetime.fromisoformat(created) if created else _now()
                )
                s.add(row)
                known.add(item["key"])
                added += 1
        return added, present

    def summary(self) -> list[dict[str, Any]]:
        """Per model and endpoint: replies, errors, tokens and cost."""
        query = (
            select(
                LLMReplyRow.model,
                LLMReplyRow.endpoint,
                func.count(),
                func.sum(LLMReplyRow.tokens_in),
                func.sum(LLMReplyRow.tokens_out),
                func.sum(LLMReplyRow.cost),
                func.sum(func.length(LLMReplyRow.error) > 0),
            )
            .group_by(LLMReplyRow.model, LLMReplyRow.endpoint)
            .order_by(LLMReplyRow.model, LLMReplyRow.endpoint)
        )
        with self.store.session() as s:
            return [
                {
                    "model": m,
                    "endpoint": e,
                    "replies": int(n),
                    "errors": int(err or 0),
                    "tokens_in": int(ti or 0),
                    "tokens_out": int(to or 0),
                    "cost": float(c or 0.0),
                }
                for m, e, n, ti, to, c, err in s.execute(query)
            ]


_STORES: dict[str, ReplyStore] = {}


def replies_of(db: str | None) -> ReplyStore:
    """The replies of the database at ``db`` (a SQLAlchemy URL; None: the default one),
    opened once in a process."""
    url = db or default_url()
    if url not in _STORES:
        if len(_STORES) > 8:
            _STORES.clear()
        _STORES[url] = ReplyStore(Store(url))
    return _STORES[url]


class StoredReplies:
    """The cache the commands hand their ``llm`` agents: the replies of the database at
    ``db``, opened when a reply is first read or kept (a command whose agents ask no
    model never opens it)."""

    def __init__(self, db: str | None = None) -> None:
        self.db = db

    def get(self, key: str) -> StoredReply | None:
        return replies_of(self.db).get(key)

    def get_many(self, keys: list[str]) -> list[StoredReply]:
        return replies_of(self.db).get_many(keys)

    def put(self, replies: list[StoredReply], replace: bool = False) -> None:
        replies_of(self.db).put(replies, replace=replace)
