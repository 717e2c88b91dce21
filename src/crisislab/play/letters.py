"""Letters written by players: a play-layer channel beside the scenario's own messages.

The engine knows the scenario's ``messages`` (the letters of the record); a player's free
letter is an object of this module. It carries structured terms and a short free text,
travels by one of the channels of the scenario's ``negotiation`` section (each with who
may use it, private or public, and its delay, at least one turn; :data:`DEFAULT_CHANNELS`
where the scenario names none), and is answered by an agent recipient with
:func:`answer`.

How an agent answers (the whole rule):

1. Each structured term names the state variables it is about: the ``variables`` of the
   term in the scenario's ``negotiation.terms``.
2. An action *grants* a term when it is a routine (lowest-escalation) move of its actor
   whose effects set one of those variables: a concession, not a refusal or a threat
   (refusing inspection, for one, escalates and so never counts as granting it).
3. A letter *asks* for the terms the recipient could grant and *offers* the terms the
   writer could grant (or says so explicitly in ``ask`` and ``offer``).
4. The recipient can accept only if every term asked of it has a granting action
   available now. It then weighs the deal by value, with the scenario's leaders' model
   (:func:`crisislab.agents.leader.judge_deal`): the payoff of the outcome the deal
   leads to, with both sides' terms in place, against the expected payoff of carrying on
   without it, which falls as the danger of war rises. A bare demand in a quiet week is
   refused; the same terms, or better ones, can be accepted when the danger is high.
   An accepted deal commits the recipient to the granting actions, which it plays on
   its next turns while they remain available.
5. What the writer offers binds no one, since the engine only binds actions actually
   taken: the recipient takes the offer at its word when it weighs the deal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from crisislab.scenario.expr import (
    BoolOp,
    Compare,
    Const,
    Name,
    Node,
    Unary,
    evaluate,
    names_in,
)
from crisislab.scenario.model import ActionRule, Scenario
from crisislab.scenario.schema import ID_PATTERN, Channel

MAX_TEXT = 600  # characters of free text in a letter
MAX_LETTERS_PER_TURN = 3


class LetterError(ValueError):
    """A letter that cannot be sent; the message says what to change."""


def terms(scenario: Scenario) -> dict[str, str]:
    """The terms a letter may carry in ``scenario``: id -> what it means, in words (the
    scenario's ``negotiation.terms``; none without that section)."""
    negotiation = scenario.spec.negotiation
    return {t.id: t.label for t in negotiation.terms} if negotiation is not None else {}


DEFAULT_CHANNELS = (
    Channel(
        id="letters",
        label="Private letters",
        delay=1,
        assumption="A scenario that names no channels has these two: a private letter "
        "between any two actors and a public statement, each read the next turn.",
    ),
    Channel(
        id="statements",
        label="Public statements",
        public=True,
        delay=1,
        assumption="A scenario that names no channels has these two: a private letter "
        "between any two actors and a public statement, each read the next turn.",
    ),
)


def channels(scenario: Scenario) -> tuple[Channel, ...]:
    """The channels letters may travel by: the scenario's ``negotiation.channels``, in
    the file's order, or, where it names none, :data:`DEFAULT_CHANNELS`."""
    negotiation = scenario.spec.negotiation
    if negotiation is None or negotiation.channels is None:
        return DEFAULT_CHANNELS
    return tuple(negotiation.channels)


def channel_by_id(scenario: Scenario, name: str) -> Channel:
    """The channel called ``name``; a :class:`LetterError` naming the others if none is."""
    found = next((c for c in channels(scenario) if c.id == name), None)
    if found is None:
        known = ", ".join(c.id for c in channels(scenario))
        raise LetterError(f"'{name}' is not a channel of this scenario; its channels are: {known}")
    return found


def joins(scenario: Scenario, c: Channel, sender: str, to: str) -> bool:
    """Whether ``sender`` may write to ``to`` on channel ``c``: two different actors,
    both of its ``between`` (every actor for ``all``) and, where it names ``pairs``, one
    of its pairs (either way round)."""
    if sender == to:
        return False
    members = scenario.actors if c.between == "all" else c.between
    if sender not in members or to not in members:
        return False
    return c.pairs is None or any({sender, to} == set(p) for p in c.pairs)


def channels_for(scenario: Scenario, sender: str, to: str | None = None) -> list[Channel]:
    """The channels ``sender`` may use: to ``to``, or (without it) to anyone."""
    return [
        c
        for c in channels(scenario)
        if any(joins(scenario, c, sender, a) for a in (scenario.actors if to is None else (to,)))
    ]


def _first(scenario: Scenario, public: bool) -> Channel | None:
    """The scenario's first public or private channel, if it has one."""
    return next((c for c in channels(scenario) if c.public == public), None)


def can_write(scenario: Scenario, sender: str, to: str, public: bool = False) -> bool:
    """Whether ``sender`` may write to ``to`` on a channel of that kind."""
    return any(c.public == public and joins(scenario, c, sender, to) for c in channels(scenario))


def pick_channel(
    scenario: Scenario, sender: str, to: str, public: bool = False, name: str | None = None
) -> Channel:
    """The channel a letter goes by: the one called ``name`` (which must join the two),
    or, without a name, the first channel of the kind (``public``) that joins them, as
    letters written before channels were chosen went. A :class:`LetterError` says what
    is allowed when none does."""
    from crisislab.scenario.display import actor_name

    who, whom = actor_name(scenario, sender), actor_name(scenario, to)
    if name:
        c = channel_by_id(scenario, name)
        if not joins(scenario, c, sender, to):
            usable = "; ".join(x.label for x in channels_for(scenario, sender, to)) or "none"
            raise LetterError(
                f"{who} cannot write to {whom} by {c.label}; the channels between them: {usable}"
            )
        return c
    found = next(
        (c for c in channels(scenario) if c.public == public and joins(scenario, c, sender, to)),
        None,
    )
    if found is None:
        kind = "public" if public else "private"
        raise LetterError(f"no {kind} channel of the scenario joins {who} to {whom}")
    return found


def who_words(scenario: Scenario, c: Channel, sender: str) -> str:
    """Whom ``sender`` may write to on ``c``, in words: ``to any party`` or the names."""
    from crisislab.scenario.display import actor_name

    others = [a for a in scenario.actors if a != sender]
    reach = [actor_name(scenario, a) for a in others if joins(scenario, c, sender, a)]
    if len(reach) == len(others):
        return "to any party"
    if len(reach) == 1:
        return f"to {reach[0]} only"
    return "to " + ", ".join(reach[:-1]) + f" and {reach[-1]}"


def arrival_words(scenario: Scenario, written: int, arrives: int) -> str:
    """When a letter written during turn ``written`` is read (at the start of turn
    ``arrives``), in words from the writer's turn: ``arrives this evening``, ``arrives the
    next morning``, ``arrives in 3 days``, with the date (``(Sunday 28 October 1962,
    morning)``)."""
    from crisislab.scenario.display import turn_words

    turns = scenario.clock.turns
    if arrives >= len(turns):
        return "arrives after the end of the crisis"
    w, a = turns[min(written, len(turns) - 1)], turns[arrives]
    days = (a.date - w.date).days
    half = {"am": "morning", "pm": "evening"}.get(a.half or "", "")
    if days <= 0:
        when = f"this {half}" if half else "later the same day"
    elif days == 1:
        when = f"the next {half or 'day'}"
    elif w.step_days == 7 and days == 7:
        when = "the next week"
    else:
        when = f"in {days} days"
    return f"arrives {when} ({turn_words(scenario, arrives, weekday=True)})"


def channel_words(scenario: Scenario, c: Channel, sender: str, turn: int) -> str:
    """A channel as a sender reads it: its name, private or public, whom it reaches and
    when a letter written now arrives."""
    kind = "public, read by every party" if c.public else "private"
    arrives = arrival_words(scenario, turn, turn + delay_turns(scenario, channel=c))
    return f"{c.label}: {kind}, {who_words(scenario, c, sender)}; {arrives}"


@dataclass
class Letter:
    """A player's letter, as written and as delivered."""

    id: int
    sender: str
    to: str
    public: bool
    terms: list[str]
    text: str
    turn: int  # written during this turn
    arrives: int  # delivered at the start of this turn
    reply_to: int | None = None
    ask: list[str] | None = None  # the terms asked of the recipient (None: inferred)
    offer: list[str] | None = None  # the terms the writer offers (None: inferred)
    stance: str = ""  # for an answer: "accept", "decline" or "" (no position)
    channel: str = ""  # the channel's id ("" in games saved before letters named one)
    delivered: bool = False
    answer_note: str = ""  # for an agent's answer: why
    commits: list[str] = field(default_factory=list)  # actions the writer committed to

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Letter:
        return cls(**data)


def clean_text(raw: str, limit: int = MAX_TEXT, what: str = "the text") -> str:
    """Check a line typed by a person: no control characters, not too long."""
    bad = [c for c in raw if unicodedata.category(c) in ("Cc", "Cf") and c not in "\t"]
    if bad:
        shown = ", ".join(sorted({repr(c) for c in bad}))
        raise LetterError(f"{what} contains control characters ({shown}); type plain text")
    text = " ".join(raw.split())
    if len(text) > limit:
        raise LetterError(f"{what} is {len(text)} characters long; the limit is {limit}")
    return text


def model_letter(scenario: Scenario, sender: str, letter: Any) -> dict[str, Any] | None:
    """A letter a language model wrote with its choice (``{"to", "terms", "text"}``, see
    :mod:`crisislab.agents.llm_prompt`) as a private letter's draft: the recipient named
    by id, name or leader's name, the terms the scenario knows (in the model's order,
    once each), the text cleaned and cut to :data:`MAX_TEXT`. None when it is not a
    letter, names no actor other than its writer, or no private channel joins the two:
    such a letter is dropped, not sent."""
    if not isinstance(letter, dict):
        return None
    names = {a.id: a.id for a in scenario.spec.actors}
    for a in scenario.spec.actors:
        names[a.name.lower()] = a.id
        if a.leader:
            names[a.leader.lower()] = a.id
    to = names.get(str(letter.get("to", "")).strip().lower())
    if to is None or to == sender or not can_write(scenario, sender, to):
        return None
    raw = letter.get("terms") or []
    known = terms(scenario)
    chosen = (
        list(dict.fromkeys(str(x).strip().lower() for x in raw if str(x).strip().lower() in known))
        if isinstance(raw, list)
        else []
    )
    text = "".join(c for c in str(letter.get("text", "")) if c.isprintable() or c.isspace())
    return {
        "sender": sender,
        "to": to,
        "public": False,
        "terms": chosen,
        "text": " ".join(text.split())[:MAX_TEXT],
    }


def parse_terms(raw: str, scenario: Scenario | None = None) -> list[str]:
    """``"withdrawal, noninvasion"`` -> the terms, checked against the scenario's terms
    (:func:`terms`; a word of three letters or more may abbreviate one). Without a
    scenario the words are only checked to be term ids (lower case, ``snake_case``)."""
    text = clean_text(raw, 200, "the terms")
    known = terms(scenario) if scenario is not None else None
    out: list[str] = []
    for part in text.replace(",", " ").split():
        word = part.lower()
        if known is None:
            if not re.fullmatch(ID_PATTERN, word):
                raise LetterError(
                    f"'{part}' is not a term: a term is one word of letters, digits and underscores"
                )
            matches = [word]
        else:
            matches = [t for t in known if t.startswith(word)] if len(word) >= 3 else []
            if word in known:
                matches = [word]
        if len(matches) != 1:
            listed = ", ".join(known or ()) or "none in this scenario"
            raise LetterError(f"'{part}' is not a term; the terms are: {listed}")
        if matches[0] not in out:
            out.append(matches[0])
    return out


def delay_turns(
    scenario: Scenario, public: bool = False, channel: Channel | str | None = None
) -> int:
    """Turns a letter travels: the ``delay`` of ``channel`` (a channel or its id) or,
    without one, of the scenario's first private channel (or public one, with
    ``public``), a number of turns or a parameter holding it, at least one: a letter
    written during a turn is read at the earliest at the start of the next one. One turn
    where the scenario has no such channel."""
    c = channel_by_id(scenario, channel) if isinstance(channel, str) else channel
    if c is None:
        c = _first(scenario, public)
    if c is None:
        return 1
    value = scenario.parameters[c.delay] if isinstance(c.delay, str) else c.delay
    return max(1, int(round(value)))


def transit_hours(scenario: Scenario, written: int, arrives: int) -> int:
    """Hours from the start of the writing turn to the start of the arrival turn."""
    turns = scenario.clock.turns
    days = sum(turns[t].step_days for t in range(written, min(arrives, len(turns))))
    return int(round(days * 24))


# ---- how an agent answers ------------------------------------------------------------


def term_variables(scenario: Scenario, term: str) -> set[str]:
    """The state variables ``term`` is about (its ``variables`` in the scenario)."""
    negotiation = scenario.spec.negotiation
    if negotiation is None:
        return set()
    return {v for t in negotiation.terms if t.id == term for v in t.variables}


def granting_actions(scenario: Scenario, actor: str, term: str) -> list[ActionRule]:
    """The recipient's actions that grant ``term`` (see the module's docstring)."""
    low = min(scenario.escalation_labels, default=0)
    targets = term_variables(scenario, term)
    return [
        a
        for a in scenario.actions_of(actor)
        if a.escalation <= low and any(e.target in targets for e in a.effects)
    ]


@dataclass(frozen=True)
class Answer:
    stance: str  # "accept" or "decline"
    note: str
    commits: tuple[str, ...]


def split_terms(scenario: Scenario, letter: Letter) -> tuple[list[str], list[str]]:
    """The terms a letter asks of its recipient and those its writer offers."""
    if letter.ask is not None or letter.offer is not None:
        return list(letter.ask or []), list(letter.offer or [])
    asked = [t for t in letter.terms if granting_actions(scenario, letter.to, t)]
    offered = [
        t for t in letter.terms if t not in asked and granting_actions(scenario, letter.sender, t)
    ]
    return asked, offered


def answer(
    scenario: Scenario,
    actor: str,
    letter: Letter,
    legal: dict[str, bool],
    why: dict[str, str],
    observation: Any = None,
) -> Answer:
    """An agent's answer to ``letter``; ``legal`` says which of its actions are available
    now and ``why`` explains those that are not. With the recipient's ``observation``
    (a batch of one) and a scenario with a leaders' model, the deal is weighed by value
    (see the module's docstring); without it, a deal that can be granted is accepted."""
    asked, offered = split_terms(scenario, letter)
    if not letter.terms and not asked:
        return Answer("decline", "The letter asks for nothing definite; it is noted.", ())
    mine = {t: granting_actions(scenario, actor, t) for t in asked}
    mine = {t: acts for t, acts in mine.items() if acts}
    if not mine:
        return Answer("decline", "None of these terms is ours to grant.", ())
    commits: list[str] = []
    missing: list[str] = []
    for term, acts in mine.items():
        ready = [a for a in acts if legal.get(a.id)]
        if ready:
            if ready[0].id not in commits:
                commits.append(ready[0].id)
        else:
            missing.append(f"{term} ({why.get(acts[0].id, 'not available now')})")
    if missing:
        return Answer("decline", "We cannot grant now: " + "; ".join(missing) + ".", ())
    words = terms(scenario)
    granted = ", ".join(words.get(t, t) for t in mine)
    if (
        observation is not None
        and scenario.spec.leaders is not None
        and scenario.role(actor) == "player"
    ):
        from crisislab.agents.leader import LeaderModel, judge_deal

        rules = {a.id: a for a in scenario.actions}
        offers = []
        for term in offered:
            acts = granting_actions(scenario, letter.sender, term)
            if acts:
                offers.append(acts[0])
        verdict = judge_deal(
            LeaderModel(scenario, actor), observation, 0, [rules[c] for c in commits], offers
        )
        if not verdict.accept:
            return Answer("decline", f"We decline: {verdict.reasons()}.", ())
        return Answer("accept", f"We accept ({granted}): {verdict.reasons()}.", tuple(commits))
    return Answer("accept", f"We accept: {granted}.", tuple(commits))


# ---- why an action is not available --------------------------------------------------


def explain(node: Node, env: dict[str, Any], scenario: Scenario) -> str:
    """The first part of an availability condition that fails now, in words. The loader
    guarantees an action's condition reads only what its actor always sees, so the
    explanation leaks nothing."""
    failing = _failing(node, env)
    return render(failing, scenario) if failing is not None else "not available now"


def _truthy(node: Node, env: dict[str, Any]) -> bool:
    return bool(np.all(np.asarray(evaluate(node, env), dtype=bool)))


def _failing(node: Node, env: dict[str, Any]) -> Node | None:
    if _truthy(node, env):
        return None
    if isinstance(node, BoolOp) and node.op == "and":
        for part in node.values:
            bad = _failing(part, env)
            if bad is not None:
                return bad
    return node


def render(node: Node, scenario: Scenario) -> str:
    """A condition in plain words, enum codes shown by name."""
    if isinstance(node, Name):
        return f"needs {_label(node.name, scenario)}"
    if isinstance(node, Unary) and node.op == "not" and isinstance(node.operand, Name):
        return f"needs not: {_label(node.operand.name, scenario)}"
    if isinstance(node, Compare):
        return "needs " + _compare(node, scenario)
    if isinstance(node, BoolOp) and node.op == "or":
        return "needs one of: " + "; ".join(
            render(v, scenario).removeprefix("needs ") for v in node.values
        )
    names = sorted(names_in(node))
    return "needs a condition on " + ", ".join(_label(n, scenario) for n in names)


def _label(name: str, scenario: Scenario) -> str:
    """A name in a condition, as the scenario words it for readers."""
    from crisislab.scenario.display import variable_label

    for m in scenario.messages:
        if name in (f"{m.id}_received", f"{m.id}_sent"):
            gist = " ".join(m.summary.split()[:8]).rstrip(".,;:") + "…"
            verb = "arrived" if name.endswith("_received") else "been sent"
            return f"the letter ({gist}) to have {verb}"
    return variable_label(scenario, name)


def _compare(node: Compare, scenario: Scenario) -> str:
    from crisislab.scenario.display import format_value

    enum: tuple[str, ...] | None = None
    variable: str | None = None
    for o in node.operands:
        if isinstance(o, Name):
            try:
                enum = scenario.variable(o.name).values
                variable = o.name
            except KeyError:
                enum = None
    parts: list[str] = []
    for o in node.operands:
        if isinstance(o, Const):
            value = o.value
            if enum is not None and float(value).is_integer() and 0 <= int(value) < len(enum):
                assert variable is not None
                parts.append(f"'{format_value(scenario, variable, float(value))}'")
            elif variable is not None:
                parts.append(format_value(scenario, variable, float(value)))
            else:
                parts.append(f"{value:g}")
        elif isinstance(o, Name):
            parts.append(_label(o.name, scenario))
        else:
            parts.append("(" + ", ".join(sorted(names_in(o))) + ")")
    words = {
        "==": "to be",
        "!=": "not to be",
        ">=": "to be at least",
        "<=": "to be at most",
        ">": "to be more than",
        "<": "to be less than",
    }
    out = parts[0]
    for op, part in zip(node.ops, parts[1:], strict=False):
        out += f" {words.get(op, op)} {part}"
    return out
