"""What one actor is told at the start of a turn, built only from what it may know.

Everything here comes from the actor's :class:`Observation`, its news (what its
observations showed on earlier turns), the letters it may read, and the scenario's static
text. Nothing reads the state directly, so the fog of war is the engine's, not ours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from crisislab.play.letters import Letter, channels, terms, transit_hours
from crisislab.play.session import News, Session, _name
from crisislab.play.words import plain
from crisislab.scenario.display import cite_words, variable_label
from crisislab.scenario.model import Scenario, VariableRule
from crisislab.scenario.schema import Citation


@dataclass(frozen=True)
class Fact:
    id: str
    label: str
    value: str


@dataclass(frozen=True)
class Option:
    number: int
    id: str
    label: str
    summary: str
    available: bool
    reason: str
    escalation: str
    source: str


@dataclass(frozen=True)
class LetterView:
    id: int
    heading: str
    text: str
    status: str


@dataclass
class Briefing:
    actor: str
    actor_name: str
    leader: str
    title: str
    turn: int
    label: str
    phase: str
    position: str  # "turn 3 of 99"
    own: list[Fact] = field(default_factory=list)
    intelligence: list[Fact] = field(default_factory=list)
    confidential: list[Fact] = field(default_factory=list)
    world: list[Fact] = field(default_factory=list)
    quiet: list[Fact] = field(default_factory=list)
    latest: list[News] = field(default_factory=list)
    earlier: list[News] = field(default_factory=list)
    letters: list[LetterView] = field(default_factory=list)
    proposals: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    commitments: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Every visible word, for tests and for checking what leaks."""
        parts = [self.title, self.label, self.phase]
        for group in (self.own, self.intelligence, self.confidential, self.world, self.quiet):
            parts += [f"{f.label}: {f.value}" for f in group]
        parts += [n.text for n in self.latest + self.earlier]
        parts += [f"{x.heading} {x.text} {x.status}" for x in self.letters]
        parts += self.proposals
        parts += [f"{o.label} {o.summary} {o.reason}" for o in self.options]
        return "\n".join(parts)


def cite_short(c: Citation) -> str:
    """A citation with its source's id (for files; on screen, ``cite_words``)."""
    anchor = f' "{c.anchor}"' if c.anchor else ""
    return f"{c.source}, {c.locator}{anchor}"


def label_of(v: VariableRule, scenario: Scenario) -> str:
    spec = next(x for x in scenario.spec.variables if x.id == v.id)
    text = " ".join(spec.description.split())
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= 90 else first[:87] + "..."


def owner(variable: str, actors: tuple[str, ...]) -> str | None:
    """The actor a variable is named for (``us_defcon`` -> ``usa``), if any."""
    head = variable.split("_")[0]
    if head in actors:
        return head
    candidates = sorted((a for a in actors if a.startswith(head) and len(head) >= 2), key=len)
    return candidates[0] if candidates else None


def brief(session: Session, actor: str) -> Briefing:
    sc = session.scenario
    obs = session.observe(actor)
    turn = sc.clock.turns[min(session.turn, len(sc.clock) - 1)]
    phase = next(p.label for p in sc.spec.clock.phases if p.id == turn.phase)
    spec_actor = next(a for a in sc.spec.actors if a.id == actor)
    b = Briefing(
        actor=actor,
        actor_name=spec_actor.name,
        leader=spec_actor.leader or "",
        title=sc.title,
        turn=session.turn,
        label=session.date(year=True),
        phase=phase,
        position=f"turn {session.turn + 1} of {len(sc.clock)}",
    )
    everyone = set(sc.actors)
    for v in sc.variables:
        if v.derived or v.id not in obs.values or not obs.known[v.id][0]:
            continue
        if v.type == "int" and v.low < 0:
            continue  # a turn marker ("-1 before"): bookkeeping, not news
        value = float(obs.values[v.id][0])
        rule = v.observers.get(actor)
        shown = _estimate(v, value, sc) if rule is not True else None
        fact = Fact(v.id, label_of(v, sc), shown or _value(v, value, sc))
        if owner(v.id, sc.actors) == actor:
            b.own.append(fact)
        elif v.type == "bool" and not value:
            b.quiet.append(fact)  # not (yet) the case: listed briefly
        elif rule is not True:
            b.intelligence.append(fact)  # seen only while a condition holds
        elif {a for a, r in v.observers.items() if r is True} != everyone:
            b.confidential.append(fact)
        else:
            b.world.append(fact)
    news = session.news.get(actor, [])
    b.latest = [n for n in news if n.turn == session.turn - 1]
    b.earlier = [n for n in news if n.turn < session.turn - 1][-8:]
    b.letters, b.proposals = _letters(session, actor, obs.values, obs.known)
    legal, why = session.availability(actor)
    for i, a in enumerate(sc.actions_of(actor), start=1):
        b.options.append(
            Option(
                number=i,
                id=a.id,
                label=a.label,
                summary=plain(a.summary, sc),
                available=legal[a.id],
                reason=why.get(a.id, ""),
                escalation=_rung(sc, a.escalation),
                source="; ".join(cite_words(sc, c) for c in a.cite[:2]),
            )
        )
    b.commitments = list(session.commitments.get(actor, []))
    return b


def _value(v: VariableRule, value: float, sc: Scenario) -> str:
    """A value in the words a reader uses: rounded as a person would (never ``38.25
    missiles``), a turn as its date, an enum by its label, with the unit."""
    from crisislab.scenario.display import format_value

    spec = next(x for x in sc.spec.variables if x.id == v.id)
    if v.type == "float" and (v.low, v.high) == (0.0, 1.0) and not spec.unit:
        return f"{value:.0%}"  # a share, in words people read
    text = format_value(sc, v.id, value)
    plain_unit = (
        spec.unit
        and spec.unit not in ("percent", "turn")
        and not spec.percent
        and not spec.value_labels
        and v.type in ("int", "float")
    )
    return f"{text} {spec.unit}" if plain_unit else text


ESTIMATE_SHARE = "intel_count_share"


def _estimate(v: VariableRule, value: float, sc: Scenario) -> str | None:
    """A hidden count seen through intelligence, as the intelligence would give it.

    Reconnaissance locates only part of what is there: the scenario's
    ``intel_count_share`` (with its range) says how much. The briefing shows the located
    number and the range of totals it is consistent with, never the true count; without
    that parameter, or for what is not a count, the value is shown as it is."""
    spec = next(x for x in sc.spec.variables if x.id == v.id)
    if ESTIMATE_SHARE not in sc.parameters or v.type not in ("int", "float") or not spec.unit:
        return None
    share = sc.parameters[ESTIMATE_SHARE]
    low_share = next(p.range[0] for p in sc.spec.parameters if p.id == ESTIMATE_SHARE)
    located = int(math.floor(value * share + 0.5))
    if located <= 0:
        return "none located (an intelligence estimate)"
    most = min(int(math.ceil(located / max(low_share, 1e-9))), int(v.high))
    return (
        f"{located} {spec.unit} located (an intelligence estimate: reconnaissance "
        f"finds only part of what is there; perhaps {located} to {most} in all)"
    )


def _letters(
    session: Session, actor: str, vals: Mapping[str, np.ndarray], kn: Mapping[str, np.ndarray]
) -> tuple[list[LetterView], list[str]]:
    sc = session.scenario
    views: list[LetterView] = []
    proposals: list[str] = []
    for m in sc.messages:
        sent, received = f"{m.id}_sent", f"{m.id}_received"
        seen_sent = sent in vals and kn[sent][0] and vals[sent][0]
        seen_recv = received in vals and kn[received][0] and vals[received][0]
        if not (seen_sent or seen_recv):
            continue
        kind = "public statement" if m.public else "private letter"
        status = "received" if seen_recv else "sent, not yet received"
        who = f"{_name(sc, m.sender)} to {', '.join(_name(sc, t) for t in m.to)}"
        views.append(LetterView(0, f"{kind.capitalize()}: {who}", plain(m.summary, sc), status))
        if seen_recv and m.terms and m.sender != actor:
            proposals.append(
                f"{_name(sc, m.sender)}: " + "; ".join(variable_label(sc, t) for t in m.terms)
            )
    for x in session.letters_for(actor):
        views.append(_play_letter(session, x, actor))
        if x.delivered and x.sender != actor and x.terms and not x.reply_to:
            words = terms(sc)
            proposals.append(
                f"{_name(sc, x.sender)} (letter {x.id}): "
                + "; ".join(words.get(t, t) for t in x.terms)
            )
    return views, proposals


def _play_letter(session: Session, x: Letter, actor: str) -> LetterView:
    sc = session.scenario
    kind = "public letter" if x.public else "private letter"
    head = f"Letter {x.id} ({kind}) from {_name(sc, x.sender)} to {_name(sc, x.to)}"
    if x.reply_to:
        head += f", answering letter {x.reply_to}"
    body = []
    if x.stance:
        body.append({"accept": "ACCEPTS", "decline": "DECLINES"}.get(x.stance, x.stance) + ".")
    if x.terms:
        words = terms(sc)
        body.append("Terms: " + "; ".join(words.get(t, t) for t in x.terms) + ".")
    if x.text:
        body.append(f'"{x.text}"')
    hours = transit_hours(sc, x.turn, x.arrives)
    if x.delivered:
        status = f"written {session.date(x.turn)}, delivered {session.date(x.arrives)}"
    elif x.arrives >= len(sc.clock):
        status = f"written {session.date(x.turn)}; will not arrive before the end"
    else:
        status = (
            f"in transit: written {session.date(x.turn)}, due "
            f"{session.date(x.arrives)} (about {hours} hours)"
        )
    by = next((c.label for c in channels(sc) if c.id == x.channel), "")
    if by:
        status = f"{by}: {status}"
    return LetterView(x.id, head, " ".join(body), status)


def _rung(sc: Scenario, level: int) -> str:
    """An escalation rung as a reader sees it: ``5: military incidents``."""
    words = sc.escalation_labels.get(level, "")
    return f"{level}: {words}" if words else str(level)
