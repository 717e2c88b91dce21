"""What a language-model leader reads: its actor's briefing, in plain words, and how to
answer.

The briefing is built from one crisis (one row) of the actor's :class:`Observation` and
the scenario's static text only, in the sections and words of the briefing a person
reads in the game (``crisislab.play.briefing``): the date and phase, what the actor knows
(its own forces, what its intelligence shows, what the world knows), what it saw happen
last turn, the letters and statements it has seen with the terms they propose, and its
options by id, those not available now listed apart. Hidden state cannot reach it: the
observation holds NaN where the actor cannot see, and nothing here reads the state.
(The game's briefing also keeps a longer memory, the news of earlier turns and players'
free letters; a batch of crises has only what the observation carries.)
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from crisislab.engine.observation import Observation
from crisislab.scenario.display import format_value, long_date, turn_words, variable_label
from crisislab.scenario.model import Scenario, VariableRule

# the answer's form, as a JSON schema (the request's response_format)
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "option": {"type": "string", "description": "the id of one available option"},
        "letter": {
            "type": ["object", "null"],
            "properties": {
                "to": {"type": "string"},
                "terms": {"type": "array", "items": {"type": "string"}},
                "text": {"type": "string"},
            },
            "required": ["to", "terms", "text"],
            "additionalProperties": False,
        },
        "rationale": {"type": "string", "description": "a short private reason"},
    },
    "required": ["option", "letter", "rationale"],
    "additionalProperties": False,
}

AVAILABLE_HEADING = "Your options now (id: what it is):"
UNAVAILABLE_HEADING = "Not available now:"
ESTIMATE_SHARE = "intel_count_share"  # as the game's briefing reads it
_IDENT = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


@dataclass(frozen=True)
class Choice:
    """A reply read as an answer: the option's local index, a letter, the rationale."""

    local: int
    option: str
    letter: dict[str, Any] | None
    rationale: str


class ReplyError(ValueError):
    """A reply that cannot be used as an answer; the message says why, for the retry."""


_SPECS: dict[int, tuple[Scenario, dict[str, Any]]] = {}


def _spec(sc: Scenario, variable: str) -> Any:
    """A variable's entry in the scenario file (looked up once per scenario)."""
    held = _SPECS.get(id(sc))
    if held is None or held[0] is not sc:
        if len(_SPECS) > 64:
            _SPECS.clear()
        held = (sc, {v.id: v for v in sc.spec.variables})
        _SPECS[id(sc)] = held
    return held[1][variable]


def _name(sc: Scenario, actor: str) -> str:
    return next((a.name for a in sc.spec.actors if a.id == actor), actor)


def _plain(text: str, sc: Scenario) -> str:
    """A summary on one line, each parameter's name replaced by its value."""

    def swap(m: re.Match[str]) -> str:
        name = m.group(0)
        if name in sc.parameters:
            return f"{sc.parameters[name]:g}"
        return name

    return _IDENT.sub(swap, " ".join(text.split()))


def system_message(sc: Scenario, actor: str, persona: str = "") -> str:
    spec = next(a for a in sc.spec.actors if a.id == actor)
    who = f"{spec.leader}, leading {spec.name}" if spec.leader else spec.name
    lines = [
        f"You are {who}, in {sc.title}. Each turn you are briefed on what you know and "
        "choose exactly one of your available options.",
    ]
    others = [a for a in sc.spec.actors if a.id != actor and a.role != "passive"]
    if others:
        lines.append(
            "Leaders you may write to, by id: "
            + ", ".join(f"{a.id} ({a.leader or a.name})" for a in others)
            + "."
        )
    if persona:
        lines.append(persona)
    lines.append(
        'Answer with one JSON object and nothing else: {"option": the id of one '
        'available option, "letter": null, or {"to": the recipient, "terms": [...], '
        '"text": a few sentences} if you write to another leader, "rationale": one or '
        "two sentences on why, kept private}."
    )
    return "\n".join(lines)


def _owner(variable: str, actors: tuple[str, ...]) -> str | None:
    head = variable.split("_")[0]
    if head in actors:
        return head
    candidates = sorted((a for a in actors if a.startswith(head) and len(head) >= 2), key=len)
    return candidates[0] if candidates else None


def _estimate(sc: Scenario, v: VariableRule, value: float) -> str | None:
    """A hidden count seen through intelligence, as the game's briefing gives it: the
    located share and the range of totals it fits, never the true count."""
    spec = _spec(sc, v.id)
    if ESTIMATE_SHARE not in sc.parameters or v.type not in ("int", "float") or not spec.unit:
        return None
    share = sc.parameters[ESTIMATE_SHARE]
    low_share = next(p.range[0] for p in sc.spec.parameters if p.id == ESTIMATE_SHARE)
    located = int(math.floor(value * share + 0.5))
    if located <= 0:
        return "none located (an intelligence estimate)"
    most = min(int(math.ceil(located / max(low_share, 1e-9))), int(v.high))
    return (
        f"{located} {spec.unit} located (an intelligence estimate; perhaps "
        f"{located} to {most} in all)"
    )


def _shown(sc: Scenario, v: VariableRule, value: float) -> str:
    spec = _spec(sc, v.id)
    if v.low < 0 and "(-1 before)" in spec.description:  # a day of the clock, as a date
        if value < 0:
            return "not yet"
        day = sc.clock.turns[0].date + dt.timedelta(days=int(value))
        return long_date(day.isoformat(), weekday=False)
    text = format_value(sc, v.id, value)
    if (
        spec.unit
        and spec.unit not in ("percent", "turn")
        and v.type in ("int", "float")
        and not spec.value_labels
        and not spec.percent
    ):
        text = f"{text} {spec.unit}"
    return text


_TITLES = {
    "own": "Your own position:",
    "intelligence": "What your intelligence shows:",
    "confidential": "Known to you and some others:",
    "world": "Known to everyone:",
    "quiet": "Not the case (so far):",
}


class _Plan:
    """What one actor's briefings share, worked out once per scenario and actor: the
    variables that may be listed (with their labels and groups, known from the file),
    where each sits in the observation's matrix, and memos of the words that depend only
    on a value, a turn or the options available (each a pure function of those)."""

    def __init__(self, sc: Scenario, actor: str, names: tuple[str, ...]) -> None:
        self.names = names
        where = {k: j for j, k in enumerate(names)}
        self.where = where
        messages = {f"{m.id}_{s}" for m in sc.messages for s in ("sent", "received")}
        everyone = set(sc.actors)
        # (row in the matrix, rule, whether the actor always sees it (no estimate),
        # its label, its group, whether the group is the actor's own: a false flag not
        # its own goes to "quiet" instead)
        self.facts: list[tuple[int, VariableRule, bool, str, str, bool]] = []
        for v in sc.variables:
            if v.derived or v.id in messages or v.id not in where:
                continue
            if v.type == "int" and v.low < 0:
                continue  # a turn marker: bookkeeping, not news
            rule = v.observers.get(actor)
            if _owner(v.id, sc.actors) == actor:
                group = "own"
            elif rule is not True:
                group = "intelligence"
            elif {a for a, r in v.observers.items() if r is True} != everyone:
                group = "confidential"
            else:
                group = "world"
            own = group == "own"
            self.facts.append((where[v.id], v, rule is True, variable_label(sc, v.id), group, own))
        self.defaults = {a.id: a.default_action for a in sc.spec.actors}
        self.acted: dict[tuple[str, int], str] = {}  # "" for a default action
        self.happened: dict[str, str] = {}
        self.shown: dict[tuple[Any, ...], str] = {}
        self.heads: dict[int, list[str]] = {}
        self.options: dict[bytes, list[str]] = {}


_PLANS: dict[tuple[int, str], tuple[Scenario, tuple[str, ...], _Plan]] = {}


def _plan(sc: Scenario, actor: str, names: tuple[str, ...]) -> _Plan:
    held = _PLANS.get((id(sc), actor))
    if held is None or held[0] is not sc or held[1] != names:
        if len(_PLANS) > 256:
            _PLANS.clear()
        held = (sc, names, _Plan(sc, actor, names))
        _PLANS[(id(sc), actor)] = held
    return held[2]


def briefing(sc: Scenario, obs: Observation, i: int) -> str:
    """The briefing of crisis (row) ``i`` of ``obs``, as plain text.

    What the actor sees is read from the observation's matrix (NaN where hidden; a
    state's values are never NaN), and what depends only on the file, a value, the turn
    or the options available is worked out once (:class:`_Plan`); the text is the one
    the section-by-section reading of ``obs.values`` and ``obs.known`` gives (a test
    keeps that reading and compares)."""
    actor = obs.actor
    names, matrix = obs.matrix
    plan = _plan(sc, actor, names)
    head = plan.heads.get(obs.turn)
    if head is None:
        turn = sc.clock.turns[min(obs.turn, len(sc.clock) - 1)]
        phase = next(p.label for p in sc.spec.clock.phases if p.id == turn.phase)
        when = turn_words(sc, min(obs.turn, len(sc.clock) - 1))
        head = [f"{when}. {phase} (turn {obs.turn + 1} of {len(sc.clock)}).", ""]
        plan.heads[obs.turn] = head
    lines = list(head)
    column = matrix[:, i].tolist()
    groups: dict[str, list[str]] = {
        "own": [],
        "intelligence": [],
        "confidential": [],
        "world": [],
        "quiet": [],
    }
    memo = plan.shown
    for j, v, always, label, group, own in plan.facts:
        value = column[j]
        if value != value:  # NaN: hidden now
            continue
        # -0.0 and 0.0 are one dict key but need not read the same
        memo_key = (j, value) if value else (j, value, math.copysign(1.0, value))
        fact = memo.get(memo_key)
        if fact is None:
            shown = (None if always else _estimate(sc, v, value)) or _shown(sc, v, value)
            fact = f"- {label}: {shown}"
            if len(memo) >= 100_000:
                memo.clear()
            memo[memo_key] = fact
        if not own and v.type == "bool" and not value:
            groups["quiet"].append(fact)
        else:
            groups[group].append(fact)
    for key, title in _TITLES.items():
        if groups[key]:
            lines += [title, *groups[key], ""]
    seen = _last_turn_of(sc, obs, i, plan)
    if seen:
        lines += ["What you saw happen last turn:", *seen, ""]
    letters, proposals = _letters_of(sc, obs.actor, plan.where, column)
    if letters:
        lines += ["Letters and statements you have seen:", *letters, ""]
    if proposals:
        lines += ["Proposals on the table:", *proposals, ""]
    legal = obs.legal[i]
    options = plan.options.get(legal.tobytes())
    if options is None:
        options = _options(sc, actor, obs.actions, legal)
        plan.options[legal.tobytes()] = options
    lines += options
    return "\n".join(lines)


def _options(sc: Scenario, actor: str, actions: tuple[str, ...], legal: np.ndarray) -> list[str]:
    """The options part of a briefing, from the end of what precedes it."""
    lines: list[str] = []
    rules = {a.id: a for a in sc.actions_of(actor)}
    available = [a for a, ok in zip(actions, legal, strict=True) if ok]
    lines.append(AVAILABLE_HEADING)
    for a in available:
        r = rules[a]
        rung = sc.escalation_labels.get(r.escalation, "")
        lines.append(
            f"- {a}: {r.label}. {_plain(r.summary, sc)}"
            + (f" (escalation: {r.escalation}, {rung})" if rung else "")
        )
    closed = [a for a, ok in zip(actions, legal, strict=True) if not ok]
    if closed:
        lines += ["", UNAVAILABLE_HEADING]
        lines += [f"- {a}: {rules[a].label}" for a in closed]
    lines += ["", "Choose one available option by its id."]
    return lines


def _last_turn_of(sc: Scenario, obs: Observation, i: int, plan: _Plan) -> list[str]:
    """What the actor saw happen last turn: others' actions other than their default
    ones, then the events, each line worked out once per plan."""
    out: list[str] = []
    for other, chosen in obs.seen_actions.items():
        idx = int(chosen[i])
        if other == obs.actor or idx < 0:
            continue
        line = plan.acted.get((other, idx))
        if line is None:
            rule = sc.actions_of(other)[idx]
            line = (
                ""
                if rule.id == plan.defaults.get(other)
                else f"- {_name(sc, other)}: {rule.label}. "
                f"{_plain(rule.summary_for(obs.actor), sc)}"
            )
            plan.acted[(other, idx)] = line
        if line:
            out.append(line)
    for event_id, fired in obs.seen_events.items():
        if fired[i]:
            line = plan.happened.get(event_id)
            if line is None:
                e = sc.event(event_id)
                line = f"- {e.label}. {_plain(e.summary_for(obs.actor), sc)}"
                plan.happened[event_id] = line
            out.append(line)
    return out


def _letters_of(
    sc: Scenario, actor: str, where: dict[str, int], column: list[float]
) -> tuple[list[str], list[str]]:
    """The letters and statements the actor has seen, from its observed values (one
    crisis's column of the matrix, NaN where hidden)."""
    views: list[str] = []
    proposals: list[str] = []

    def seen(name: str) -> bool:
        j = where.get(name)
        if j is None:
            return False
        x = column[j]
        return x == x and bool(x)

    for m in sc.messages:
        sent, received = seen(f"{m.id}_sent"), seen(f"{m.id}_received")
        if not (sent or received):
            continue
        kind = "Public statement" if m.public else "Private letter"
        status = "received" if received else "sent, not yet received"
        who = f"{_name(sc, m.sender)} to {', '.join(_name(sc, t) for t in m.to)}"
        views.append(f"- {kind}, {who} ({status}): {_plain(m.summary, sc)}")
        if received and m.terms and m.sender != actor:
            proposals.append(f"- {_name(sc, m.sender)}: {', '.join(m.terms)}")
    return views, proposals


def messages(sc: Scenario, obs: Observation, i: int, persona: str = "") -> list[dict[str, str]]:
    """The chat messages of a first request for crisis ``i``."""
    return [
        {"role": "system", "content": system_message(sc, obs.actor, persona)},
        {"role": "user", "content": briefing(sc, obs, i)},
    ]


def retry_message(problem: str) -> dict[str, str]:
    return {
        "role": "user",
        "content": f"That answer cannot be used: {problem}. Answer "
        "again with one JSON object naming one available option by its id.",
    }


# ---- reading a reply -----------------------------------------------------------------


def _json_in(text: str) -> Any:
    """The JSON object of a reply: the whole text, or the first object inside it (in a
    fenced block or in prose)."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text[m.start() :])
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    raise ReplyError("it holds no JSON object")


def read_reply(text: str, actions: tuple[str, ...], legal: np.ndarray) -> Choice:
    """The choice a reply makes, checked against the options available (``legal``)."""
    data = _json_in(text)
    if not isinstance(data, dict):
        raise ReplyError("it is not a JSON object")
    option = data.get("option")
    if not isinstance(option, str) or not option.strip():
        raise ReplyError('it names no option (the field "option")')
    name = option.strip()
    lowered = {a.lower(): a for a in actions}
    if name.lower() not in lowered:
        raise ReplyError(f"'{name[:80]}' is not one of your options")
    name = lowered[name.lower()]
    local = actions.index(name)
    if not bool(legal[local]):
        raise ReplyError(f"'{name}' is not available now")
    letter = data.get("letter")
    if letter is not None and not isinstance(letter, dict):
        letter = None
    rationale = data.get("rationale")
    return Choice(local, name, letter, str(rationale)[:2000] if rationale else "")
