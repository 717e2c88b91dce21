"""The JSON that crisislab stores, as pydantic models: every stored row is read through
them, so a row edited by hand or written by another program is reported by name (which
row, which field, what is wrong) instead of failing deep inside a debrief or a listing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

MAX_SEED = 2**63 - 1
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, strict=True)]
Count = Annotated[int, Field(ge=0, strict=True)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# ---- runs ----------------------------------------------------------------------------


class OutcomeCount(_Record):
    count: Count
    p: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class RunResults(_Record):
    """What a listing reads of a run's results; the rest is kept as stored."""

    model_config = ConfigDict(extra="allow", frozen=True)
    outcomes: dict[Name, OutcomeCount] = {}


class RunRecord(_Record):
    id: int
    created: dt.datetime
    scenario: Name
    version: Annotated[str, Field(max_length=32)]
    content_hash: Annotated[str, Field(max_length=64)]
    agents: dict[Name, Name]
    what_ifs: list[Name]
    parameters: dict[Name, Annotated[float, Field(allow_inf_nan=False)]] = {}
    seed: Seed
    runs: Annotated[int, Field(ge=1, strict=True)]
    elapsed_s: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    results: RunResults
    crisislab_version: Annotated[str, Field(max_length=32)] | None = None  # the engine's


# ---- games ---------------------------------------------------------------------------


class SetupRecord(_Record):
    """A game's set-up: see :class:`crisislab.play.session.GameSetup`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scenario: Name
    seed: Seed
    seats: dict[Name, Name]
    chance: Literal["free", "history"] = "free"
    start_turn: Count | None = None

    @model_validator(mode="after")
    def _someone_plays(self) -> SetupRecord:
        if "human" not in self.seats.values():
            raise ValueError("no seat is played by a person (no 'human' seat)")
        return self


class DraftRecord(_Record):
    """A letter as a person wrote it during a turn."""

    sender: Name
    to: Name
    public: bool = False
    terms: list[str] = []
    text: str = ""
    reply_to: Annotated[int, Field(ge=1, strict=True)] | None = None
    stance: str = ""
    ask: list[str] | None = None
    offer: list[str] | None = None


class TurnRecord(_Record):
    """One played turn: the people's choices, their letters, the digest of the state the
    turn left (required: an edited history must not resume)."""

    turn: Count
    choices: Annotated[dict[Name, Name], Field(min_length=1)]
    letters: list[DraftRecord] = []
    digest: Digest
    followed: list[Name] = []


class LetterRecord(_Record):
    """A letter as delivered (see :class:`crisislab.play.letters.Letter`)."""

    id: Annotated[int, Field(ge=1, strict=True)]
    sender: Name
    to: Name
    public: bool
    terms: list[str]
    text: str
    turn: Count
    arrives: Count
    reply_to: int | None = None
    ask: list[str] | None = None
    offer: list[str] | None = None
    stance: str = ""
    delivered: bool = False
    answer_note: str = ""
    commits: list[str] = []


class GameRecord(_Record):
    id: int
    created: dt.datetime
    updated: dt.datetime
    scenario: Name
    version: Annotated[str, Field(max_length=32)]
    content_hash: Annotated[str, Field(max_length=64)]
    seats: dict[Name, Name]
    seed: Seed
    status: Literal["running", "finished"]
    turn: Count
    outcome: Name | None = None
    setup: SetupRecord
    turns: list[TurnRecord]
    letters: list[LetterRecord] = []
    notes: str = ""

    @model_validator(mode="before")
    @classmethod
    def _split_log(cls, data: Any) -> Any:
        """The stored log is the set-up, then one record per turn."""
        if isinstance(data, dict) and "log" in data:
            data = dict(data)
            log = data.pop("log")
            if (
                not isinstance(log, list)
                or not log
                or not isinstance(log[0], dict)
                or "setup" not in log[0]
            ):
                raise ValueError("the log does not start with the game's set-up")
            data["setup"], data["turns"] = log[0]["setup"], log[1:]
        return data

    def log(self) -> list[dict[str, Any]]:
        """The log as the session reads it: the set-up, then the turns."""
        return [
            {"setup": self.setup.model_dump()},
            *(t.model_dump(exclude_none=False) for t in self.turns),
        ]


def describe(e: ValidationError, limit: int = 3) -> str:
    """A pydantic error as words: the fields that are wrong and why."""
    parts = []
    for item in e.errors()[:limit]:
        where = ".".join(str(x) for x in item["loc"]) or "the row"
        parts.append(f"{where}: {item['msg']}")
    more = len(e.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
