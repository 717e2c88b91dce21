"""What a language-model leader keeps of each request and its reply, and the cache it is
handed to keep them in (:class:`ReplyCache`), so that a study reruns with the same
replies.

A reply is keyed by what determines it: the model, the endpoint, the hash of the whole
request (its messages and answer format) and the sampling parameters (temperature, seed,
the sample's number, the try). The agents name the cache by this small interface only;
the database of runs and games implements it above them (:mod:`crisislab.llm_store`),
and the command that runs the agents hands it over (``--llm-cache``, ``--db``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any, Protocol


@dataclass(frozen=True)
class StoredReply:
    """One request to a model and what came back: the reply's text, or the endpoint's
    error, with the tokens in and out, the latency and the cost."""

    key: str
    model: str
    endpoint: str
    prompt_hash: str
    params: dict[str, Any]
    request: dict[str, Any]
    reply: str
    error: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    cost: float


FIELDS = tuple(f.name for f in fields(StoredReply))


class ReplyCache(Protocol):
    """Where the replies of one command are read and kept."""

    def get(self, key: str) -> StoredReply | None:
        """The reply kept under ``key``, if any."""
        ...

    def get_many(self, keys: list[str]) -> list[StoredReply]:
        """The replies kept under any of ``keys`` (those not kept are left out)."""
        ...

    def put(self, replies: list[StoredReply], replace: bool = False) -> None:
        """Keep replies; one already kept under its key stays, unless ``replace``."""
        ...


class NoReplies:
    """A cache that keeps nothing: the agents of a command given no cache ask for every
    reply they have not had in this process."""

    def get(self, key: str) -> StoredReply | None:
        return None

    def get_many(self, keys: list[str]) -> list[StoredReply]:
        return []

    def put(self, replies: list[StoredReply], replace: bool = False) -> None:
        return None


def digest(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def reply_key(model: str, endpoint: str, prompt_hash: str, params: dict[str, Any]) -> str:
    return digest({"model": model, "endpoint": endpoint, "prompt": prompt_hash, "params": params})
