"""The scenario format: pydantic models for a crisis written as data.

A scenario file is YAML that validates against :class:`ScenarioSpec`. The models here
check shape, types and local bounds; cross-references (an action naming an unknown
actor, an expression naming an unknown variable) are checked afterwards by
:mod:`crisislab.scenario.checks`, which knows the whole file. Nothing in a scenario is
ever executed: conditions and effects are strings in the expression language of
:mod:`crisislab.scenario.expr`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
Ident = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
ScenarioIdent = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
Expression = Annotated[str, Field(min_length=1, max_length=2000)]
Prose = Annotated[str, Field(min_length=1, max_length=4000)]
MAX_ANCHOR_WORDS = 8
FORMAT_VERSION = 2
"""The version of the scenario format this crisislab reads (see docs/scenario-format.md,
"Format versions"). Format 1 had no ``format_version`` key, no outcome ``tags`` and none of
the sections ``teaching``, ``negotiation``, ``game_tree`` and ``doctrines``."""


class Strict(BaseModel):
    """Base: unknown fields are errors, so a misspelt key never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(Strict):
    """Where a fact comes from: a source id, a place in it, and a short anchor phrase.

    For a seed document the anchor is a phrase of at most eight words that occurs in the
    document (OCR noise tolerated by ``crisislab sources check``). For a public reference
    the anchor may be omitted; the locator names the page or section.
    """

    source: Ident
    locator: Annotated[str, Field(min_length=1, max_length=200)]
    anchor: Annotated[str, Field(min_length=1, max_length=120)] | None = None

    @field_validator("anchor")
    @classmethod
    def _short_anchor(cls, value: str | None) -> str | None:
        if value is not None and len(value.split()) > MAX_ANCHOR_WORDS:
            raise ValueError(
                f"anchor has {len(value.split())} words; keep it to at most "
                f"{MAX_ANCHOR_WORDS} words, enough to find the passage"
            )
        return value


Cites = Annotated[list[Citation], Field(min_length=1)]


class Source(Strict):
    """A document the scenario cites: a seed document (a file) or a public reference."""

    id: Ident
    title: Prose
    kind: Literal["seed", "reference"]
    file: str | None = None
    url: str | None = None
    author: str | None = None
    date: str | None = None
    short: Annotated[str, Field(min_length=1, max_length=80)] | None = None

    @model_validator(mode="after")
    def _locatable(self) -> Source:
        if self.kind == "seed" and not self.file:
            raise ValueError("a seed source needs `file`: the document's file name")
        if self.kind == "reference" and not self.url:
            raise ValueError("a reference source needs `url`: where a reader can check it")
        return self


class Period(Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("period.end is before period.start; swap them")
        return self


STEP_DAYS: dict[str, float] = {"half-day": 0.5, "day": 1.0, "week": 7.0}


class Phase(Strict):
    """A stretch of the calendar cut into turns of one length."""

    id: Ident
    label: Prose
    start: dt.date
    end: dt.date
    step: Literal["half-day", "day", "week"]

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.end < self.start:
            raise ValueError(f"phase '{self.id}' ends before it starts; swap start and end")
        return self


class Clock(Strict):
    phases: Annotated[list[Phase], Field(min_length=1)]
    start_phase: Ident | None = None


class Actor(Strict):
    """A party to the crisis. Players choose; scripted actors follow their rules in order;
    passive actors are affected and observe but never act."""

    id: Ident
    name: Prose
    role: Literal["player", "scripted", "passive"]
    leader: str | None = None
    short_name: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    description: Prose
    default_action: Ident | None = None
    cite: Cites

    @property
    def display_name(self) -> str:
        """How a chronicle names the actor: its short name, else its leader, else its name."""
        return self.short_name or self.leader or self.name


Observer = Literal["all"] | list[Ident] | dict[Ident, bool | Expression]


class Variable(Strict):
    """A typed, bounded piece of world state, and who can observe it."""

    id: Ident
    description: Prose
    type: Literal["bool", "int", "float", "enum"]
    min: float | None = None
    max: float | None = None
    values: list[Ident] | None = None
    initial: bool | int | float | str
    unit: str | None = None
    label: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    chronicle: bool = False
    percent: bool = False
    value_labels: dict[str, Annotated[str, Field(min_length=1, max_length=80)]] | None = None
    observed_by: Observer = "all"
    key: bool = False  # a key fact: recorded where a war begins (simulate's war origins)
    cite: Cites | None = None
    assumption: Prose | None = None

    @field_validator("value_labels", mode="before")
    @classmethod
    def _label_keys(cls, value: object) -> object:
        """YAML reads ``5:`` as a number and ``true:`` as a boolean: key them as text."""
        if isinstance(value, dict):
            return {
                (
                    str(k).lower() if isinstance(k, bool) or str(k) in ("True", "False") else str(k)
                ): v
                for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _shown(self) -> Variable:
        if self.percent and (
            self.type != "float"
            or self.min is None
            or self.max is None
            or self.min < 0
            or self.max > 1
        ):
            raise ValueError("`percent: true` is for a float share between 0 and 1")
        for key in self.value_labels or {}:
            if self.type == "enum" and key not in (self.values or []):
                raise ValueError(f"value_labels names '{key}', not one of values {self.values}")
            if self.type == "bool" and key not in ("true", "false"):
                raise ValueError(f"value_labels of a bool are keyed true and false, not '{key}'")
            if self.type in ("int", "float") and not re.fullmatch(r"-?\d+(\.\d+)?", key):
                raise ValueError(f"value_labels of a number are keyed by numbers, not '{key}'")
        return self

    @model_validator(mode="after")
    def _typed(self) -> Variable:
        if self.type == "enum":
            if not self.values:
                raise ValueError("an enum variable needs `values`: the list of its states")
            if len(set(self.values)) != len(self.values):
                raise ValueError("enum `values` repeat a name; each state must be unique")
            if self.initial not in self.values:
                raise ValueError(f"initial {self.initial!r} is not one of values {self.values}")
            return self
        if self.values is not None:
            raise ValueError("`values` is only for enum variables; remove it or set type: enum")
        if self.type == "bool":
            if not isinstance(self.initial, bool):
                raise ValueError("a bool variable needs initial: true or false")
            return self
        if self.min is None or self.max is None:
            raise ValueError(f"a {self.type} variable needs both `min` and `max` bounds")
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}; swap them")
        if isinstance(self.initial, str | bool):
            raise ValueError(f"initial must be a number for a {self.type} variable")
        if not self.min <= self.initial <= self.max:
            raise ValueError(
                f"initial {self.initial} is outside the bounds [{self.min}, {self.max}]"
            )
        if self.type == "int" and float(self.initial) != int(self.initial):
            raise ValueError(f"initial {self.initial} is not a whole number for an int variable")
        return self

    @model_validator(mode="after")
    def _sourced(self) -> Variable:
        if self.cite is None and self.assumption is None:
            raise ValueError("give the variable a `cite` or state it as an `assumption`")
        return self


class Parameter(Strict):
    """A number the rules use: its value, a plausible range, and where it comes from."""

    id: Ident
    description: Prose
    value: float
    range: tuple[float, float]
    unit: str | None = None
    cite: Cites | None = None
    assumption: Prose | None = None

    @model_validator(mode="after")
    def _ranged(self) -> Parameter:
        low, high = self.range
        if low > high:
            raise ValueError(f"range [{low}, {high}] is reversed; write [low, high]")
        if not low <= self.value <= high:
            raise ValueError(f"value {self.value} is outside its range [{low}, {high}]")
        if self.cite is None and self.assumption is None:
            raise ValueError(
                "a parameter needs a `cite`, or an `assumption` that says why its range"
            )
        return self


class EscalationLevel(Strict):
    """One rung of the scenario's single escalation scale."""

    level: Annotated[int, Field(ge=0, le=100)]
    id: Ident
    label: Prose


Visibility = Literal["public", "private"] | list[Ident]
# What an observer other than the actor is told: the summary as that observer could
# write it (key: an actor id, or ``others`` for every observer not named)
SeenAs = dict[Ident, Prose]


class Message(Strict):
    """A letter or statement that takes time to arrive. The engine keeps two derived
    booleans per message, ``<id>_sent`` and ``<id>_received``, for conditions to use."""

    id: Ident
    sender: Ident
    to: Annotated[list[Ident], Field(min_length=1)]
    public: bool = False
    delay: Expression = "0"
    terms: list[Ident] = Field(default_factory=list)
    summary: Prose
    cite: Cites


class Action(Strict):
    """An option of one actor: when it is available, what it changes, who sees it."""

    id: Ident
    actor: Ident
    label: Prose
    summary: Prose
    when: Expression = "true"
    effects: list[Expression] = Field(default_factory=list)
    escalation: Annotated[int, Field(ge=0, le=100)] = 0
    visibility: Visibility = "public"
    seen_as: SeenAs = Field(default_factory=dict)
    sends: Ident | None = None
    key: bool = False  # a key happening: one step of a crisis's path (crisislab paths)
    # the what-if that forces this action: every agent takes it whenever it is legal (a
    # what-if's `force_actions` sets it; see docs/what-ifs.md)
    forced_by: Ident | None = None
    cite: Cites


class Event(Strict):
    """Something that happens to the crisis rather than being chosen.

    ``rule``: fires on every turn its condition holds; ``chance``: fires while its
    condition holds, either at ``rate`` (an expected number per day, so that the odds do
    not depend on how long a turn is: the probability in a turn of ``d`` days is
    ``1 - exp(-rate * d)``) or with probability ``hazard`` per turn (for a draw that
    belongs to one moment, such as a cornered crew's decision). ``once`` events fire at
    most once. ``inject``: a class session's facilitator may make this chance event
    happen on a world's next turn (while its condition holds), as if chance had fired it.
    """

    id: Ident
    label: Prose
    summary: Prose
    kind: Literal["rule", "chance"]
    when: Expression = "true"
    hazard: Expression | None = None
    rate: Expression | None = None
    once: bool = True
    effects: list[Expression] = Field(default_factory=list)
    escalation: Annotated[int, Field(ge=0, le=100)] | None = None
    incident: bool = False
    visibility: Visibility = "public"
    seen_as: SeenAs = Field(default_factory=dict)
    key: bool = False  # a key happening: one step of a crisis's path (crisislab paths)
    inject: bool = False  # a facilitator may fire it (a chance event only)
    cite: Cites

    @model_validator(mode="after")
    def _hazard(self) -> Event:
        if self.inject and self.kind != "chance":
            raise ValueError(
                "only a chance event can be injected (`inject: true`): a rule "
                "event already fires whenever `when` holds"
            )
        if self.kind == "chance" and self.hazard is None and self.rate is None:
            raise ValueError("a chance event needs `rate` (per day) or `hazard` (per turn)")
        if self.kind == "chance" and self.hazard is not None and self.rate is not None:
            raise ValueError("a chance event takes `rate` or `hazard`, not both")
        if self.kind == "rule" and (self.hazard is not None or self.rate is not None):
            raise ValueError("a rule event fires whenever `when` holds; remove `hazard`")
        return self


class Outcome(Strict):
    """How a crisis can end, and what it is worth to each actor.

    Outcomes are tested in file order each turn; the first whose condition holds ends the
    crisis. The outcome marked ``default`` ends a crisis that reaches the last turn.
    """

    id: Ident
    label: Prose
    summary: Prose
    when: Expression = "false"
    default: bool = False
    escalation: Annotated[int, Field(ge=0, le=100)] = 0
    payoffs: dict[Ident, float | Expression]
    # what kind of end this is, for analyses that ask for "nuclear use" or "war" rather
    # than for ids: see docs/scenario-format.md, "Outcome tags"
    tags: list[Ident]
    cite: Cites

    @field_validator("tags")
    @classmethod
    def _distinct_tags(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("`tags` repeat a tag; name each tag once")
        return value


class TrackEntry(Strict):
    """One documented choice or occurrence on the historical path.

    ``until`` repeats the action every turn from ``date`` to ``until`` (a standing
    policy). ``half`` places it in the morning or evening turn of its day. ``who`` names
    whoever acted in the chronicle (``Soviet air defence``) when the actor's own name
    would not. A ``narrative`` entry is part of the record but not of the model: it names
    no action or event, is never played, and may fall outside the clock (an epilogue).
    """

    date: dt.date
    half: Literal["am", "pm"] | None = None
    until: dt.date | None = None
    actor: Ident | None = None
    who: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    action: Ident | None = None
    event: Ident | None = None
    narrative: bool = False
    summary: Prose
    note: str | None = None
    cite: Cites

    @model_validator(mode="after")
    def _one_kind(self) -> TrackEntry:
        if self.narrative:
            if self.action is not None or self.event is not None or self.until is not None:
                raise ValueError(
                    "a narrative entry is not played: remove `action`, `event` "
                    "and `until`, or set narrative: false"
                )
            return self
        if (self.action is None) == (self.event is None):
            raise ValueError(
                "a track entry names exactly one of `action` or `event`, or is `narrative: true`"
            )
        if self.action is not None and self.actor is None:
            raise ValueError("a track entry with an `action` needs the `actor` who took it")
        if self.until is not None and self.until < self.date:
            raise ValueError("`until` is before `date`; a standing action must run forward")
        return self


class Reference(Strict):
    """A public reference cited in place (a book, an article), with where in it."""

    title: Prose
    author: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    date: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    url: Annotated[str, Field(min_length=1, max_length=400)] | None = None
    locator: Annotated[str, Field(min_length=1, max_length=200)]


CalibrationMeasure = Literal["first_date", "lowest", "highest", "end_date", "probability"]
DATE_MEASURES = ("first_date", "end_date")


class CalibrationTarget(Strict):
    """Something the model should reproduce, with the range the record or the
    literature gives and where that comes from.

    ``measure`` says what is compared: ``first_date`` (the median date an expression
    ``when`` first holds), ``lowest`` or ``highest`` (the median of each crisis's lowest
    or highest value of ``variable``), ``end_date`` (the median date the crisis ends) or
    ``probability`` (the share of crises ending in one of ``outcomes``). ``range`` is
    two dates for the date measures and two numbers otherwise."""

    id: Ident
    label: Prose
    measure: CalibrationMeasure
    when: Expression | None = None
    variable: Ident | None = None
    outcomes: list[Ident] | None = None
    range: tuple[dt.date | float, dt.date | float]
    note: Prose | None = None
    cite: list[Citation] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> CalibrationTarget:
        needs = {
            "first_date": "when",
            "lowest": "variable",
            "highest": "variable",
            "probability": "outcomes",
        }.get(self.measure)
        if needs and not getattr(self, needs):
            raise ValueError(f"a `{self.measure}` target needs `{needs}`")
        dates = [isinstance(x, dt.date) for x in self.range]
        if self.measure in DATE_MEASURES and not all(dates):
            raise ValueError(
                f"a `{self.measure}` target's range is two dates, e.g. [1962-10-14, 1962-10-16]"
            )
        if self.measure not in DATE_MEASURES and any(dates):
            raise ValueError(f"a `{self.measure}` target's range is two numbers")
        low, high = self.range
        if low > high:  # type: ignore[operator]
            raise ValueError("the range's first end must not be above its second")
        if self.measure == "probability" and not 0 <= low <= high <= 1:  # type: ignore[operator]
            raise ValueError("a probability range lies within [0, 1]")
        if not self.cite and not self.references:
            raise ValueError(
                "a calibration target needs its source: `cite` (a source of "
                "the scenario) or `references` (a public reference)"
            )
        return self


class Metadata(Strict):
    id: ScenarioIdent
    version: Annotated[str, Field(pattern=r"^\d+\.\d+\.\d+$")]
    title: Prose
    summary: Prose
    period: Period
    authors: list[str] = Field(default_factory=list)


class LeaderSeat(Strict):
    """What the leaders' choice model needs to know about one actor's options."""

    commitment: Ident | None = None
    concessions: list[Ident] = Field(default_factory=list)


class LeaderFit(Strict):
    """Where the leaders' fitted coefficients came from (written by ``crisislab fit``)."""

    method: str
    date: dt.date
    scenario_version: str
    decisions: int
    log_likelihood: float
    note: str | None = None


class Leaders(Strict):
    """The leaders' choice model (see ``docs/model.md``): one quantal-response model for
    every player. Its coefficients are ordinary parameters named ``leader_*`` (shared)
    and ``leader_<actor>_*`` (per actor), so they carry ranges and sources, and
    sensitivity analyses and what-ifs reach them like any other parameter.

    ``force_from`` is the escalation rung from which an option is the use of force; per
    actor, ``commitment`` names the variable that holds its public commitments (audience
    costs) and ``concessions`` the options that give something up."""

    force_from: Annotated[int, Field(ge=0, le=100)]
    actors: dict[Ident, LeaderSeat] = Field(default_factory=dict)
    fit: LeaderFit | None = None
    cite: Cites | None = None
    assumption: Prose | None = None


ScoreCategory = Literal[
    "de_escalation",
    "status_quo",
    "posturing",
    "non_violent_escalation",
    "violent_escalation",
    "nuclear",
]


class Sourced(Strict):
    """Base of the entries that carry a ``cite`` or, failing one, an ``assumption``."""

    cite: Cites | None = None
    assumption: Prose | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Sourced:
        if self.cite is None and self.assumption is None:
            raise ValueError("give it a `cite`, or an `assumption` saying what was judged and why")
        return self


class ScoredRung(Sourced):
    """One rung of the scenario's escalation scale placed in a category of the common
    scale (``escalation_scores``), with why."""

    rung: Ident
    category: ScoreCategory


class ScoredAction(Sourced):
    """One action placed in a category of the common scale where its rung alone would
    misplace it (a concession on the routine rung is a de-escalation)."""

    action: Ident
    category: ScoreCategory


class EscalationScores(Strict):
    """How the scenario's own escalation scale maps onto the common scale of escalation
    scores (Rivera et al. 2024): every rung to a category, and actions whose rung alone
    would misplace them. ``crisislab tournament`` scores agents with it."""

    scale: Literal["rivera_2024"] = "rivera_2024"
    references: Annotated[list[Reference], Field(min_length=1)]
    rungs: Annotated[list[ScoredRung], Field(min_length=1)]
    actions: list[ScoredAction] = Field(default_factory=list)


# ---- teaching: the questions a class discusses after a game ----------------------------

GameShow = Literal["outcome", "value", "text", "list", "peak", "decision"]
# the placeholders each kind of game evidence may use in its `text`
GAME_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "outcome": frozenset({"outcome", "end", "record_outcome", "record_end"}),
    "value": frozenset({"value", "history"}),
    "text": frozenset(),
    "list": frozenset({"items"}),
    "peak": frozenset({"game", "history"}),
    "decision": frozenset({"label", "choice"}),
}


class ListItem(Strict):
    """One thing a ``list`` evidence names when its condition holds at the end."""

    when: Expression
    text: Prose


class GameEvidence(Strict):
    """One line of evidence a played game gives for a question, read at its end.

    ``show`` says what: ``outcome`` (how the game and the record ended), ``value`` (a
    variable's final value, in the game and in the record), ``text`` (a sentence when
    ``when`` holds, ``otherwise`` another), ``list`` (the ``items`` whose conditions hold,
    joined, or ``none``), ``peak`` (the highest rung reached, in the game and the
    record) and ``decision`` (the player's first decision that raised the simulated share
    of outcomes tagged ``tags`` by at least ``share`` against the record's choice).
    Conditions read the final state and ``outcome`` (compared with an outcome's id)."""

    show: GameShow
    text: Prose
    when: Expression | None = None
    otherwise: Prose | None = None
    variable: Ident | None = None
    items: list[ListItem] = Field(default_factory=list)
    none: Prose | None = None
    tags: list[Ident] = Field(default_factory=list)
    share: Annotated[float, Field(gt=0, le=1)] = 0.05

    @model_validator(mode="after")
    def _complete(self) -> GameEvidence:
        if self.show == "value" and self.variable is None:
            raise ValueError("a `value` evidence needs `variable`: the variable it reports")
        if self.show == "list" and not self.items:
            raise ValueError("a `list` evidence needs `items`: each a `when` and a `text`")
        if self.show == "decision" and not self.tags:
            raise ValueError(
                "a `decision` evidence needs `tags`: the outcomes it counts, by their tags"
            )
        return self


class EvidencePassage(Strict):
    """A passage of the sources a question draws on: what it says, and where."""

    text: Prose
    cite: Cites


class Question(Strict):
    """An essay or discussion question, with the evidence it draws on."""

    id: Ident
    question: Prose
    quote: Annotated[str, Field(min_length=1, max_length=200)]
    cite: Cites
    game: list[GameEvidence] = Field(default_factory=list)
    evidence: list[EvidencePassage] = Field(default_factory=list)


class Teaching(Strict):
    """The scenario's teaching material: the questions of its debrief."""

    questions: Annotated[list[Question], Field(min_length=1)]


# ---- negotiation: the channels letters travel by, and the terms they carry -------------


class Channel(Sourced):
    """A way the leaders write to each other: its name in words (``label``), who may use
    it, whether it is public and how long a letter takes. A private channel's letters are
    read by their recipient, a public one's by everyone; ``delay`` is the turns a letter
    takes (a number, or the id of a parameter holding it), at least one. Who may write to
    whom: any two of ``between`` (``all``: every actor), or, with ``pairs``, only the pairs
    named (either way round)."""

    id: Ident
    label: Prose
    public: bool = False
    delay: Annotated[int, Field(ge=1, le=1000)] | Ident = 1
    between: Literal["all"] | Annotated[list[Ident], Field(min_length=2)] = "all"
    pairs: (
        Annotated[
            list[Annotated[list[Ident], Field(min_length=2, max_length=2)]], Field(min_length=1)
        ]
        | None
    ) = None


class Term(Sourced):
    """A term a letter may ask for or offer: its words, and the variables it is about
    (an action grants the term when it is a routine move that sets one of them)."""

    id: Ident
    label: Prose
    variables: Annotated[list[Ident], Field(min_length=1)]


class Negotiation(Strict):
    """How the players' own letters travel (``channels``; without it, the two default
    channels: private letters and public statements, between every actor, one turn each)
    and what they can ask for or offer (``terms``; a letter without terms is free text)."""

    channels: Annotated[list[Channel], Field(min_length=1)] | None = None
    terms: list[Term] = Field(default_factory=list)


# ---- the game tree: where an abstraction of the crisis starts and what it branches on --


class GameTree(Sourced):
    """The decisions a game tree branches on (action ids) and where it starts by default
    (a date or a phase id; the scenario's start if omitted)."""

    decisions: Annotated[list[Ident], Field(min_length=1)]
    start: dt.date | Ident | None = None


# ---- doctrines: the scenario's tuning of the doctrine agents ---------------------------

DOCTRINES = ("hawk", "dove", "organizational", "political", "rational")
DoctrineName = Literal["hawk", "dove", "organizational", "political", "rational"]
# the options each doctrine takes (besides the common prefer, avoid and scores)
DOCTRINE_OPTIONS: dict[str, frozenset[str]] = {
    "hawk": frozenset({"ceiling"}),
    "dove": frozenset({"limit"}),
    "organizational": frozenset({"ceiling", "repertoire"}),
    "political": frozenset({"hawk_weight"}),
    "rational": frozenset({"risk_aversion", "foresight"}),
}
COMMON_DOCTRINE_OPTIONS = frozenset({"prefer", "avoid", "scores"})


class DoctrineSeat(Strict):
    """A doctrine's options for one actor (see docs/agents.md): numbers, action lists
    and ``scores`` (action id -> preference, replacing the generic score)."""

    ceiling: float | None = None
    limit: float | None = None
    hawk_weight: Annotated[float, Field(ge=0, le=1)] | None = None
    risk_aversion: float | None = None
    foresight: float | None = None
    repertoire: list[Ident] | None = None
    prefer: list[Ident] | None = None
    avoid: list[Ident] | None = None
    scores: dict[Ident, float] | None = None

    def options(self) -> dict[str, object]:
        """The options set here, as a doctrine takes them."""
        return self.model_dump(exclude_none=True)


class DoctrineTuning(Sourced):
    """One doctrine's tuning for this scenario, per actor, with why."""

    actors: Annotated[dict[Ident, DoctrineSeat], Field(min_length=1)]


class ScenarioSpec(Strict):
    """A whole scenario file."""

    format_version: Literal[2]
    scenario: Metadata
    clock: Clock
    sources: Annotated[list[Source], Field(min_length=1)]
    actors: Annotated[list[Actor], Field(min_length=1)]
    escalation: Annotated[list[EscalationLevel], Field(min_length=2)]
    variables: Annotated[list[Variable], Field(min_length=1)]
    parameters: list[Parameter] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    actions: Annotated[list[Action], Field(min_length=1)]
    events: list[Event] = Field(default_factory=list)
    outcomes: Annotated[list[Outcome], Field(min_length=1)]
    history: list[TrackEntry] = Field(default_factory=list)
    leaders: Leaders | None = None
    calibration: list[CalibrationTarget] = Field(default_factory=list)
    escalation_scores: EscalationScores | None = None
    teaching: Teaching | None = None
    negotiation: Negotiation | None = None
    game_tree: GameTree | None = None
    doctrines: dict[DoctrineName, DoctrineTuning] = Field(default_factory=dict)


def words(text: str) -> list[str]:
    """Lower-case word tokens, as the anchor checker compares them."""
    return re.findall(r"[a-z0-9]+", text.lower())
