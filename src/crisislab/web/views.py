"""What each screen shows, as plain data: the pages render it, the JSON API returns it.

A seat's view is built only from :func:`crisislab.play.briefing.brief` (the actor's own
observation, news and letters), its own team's rows and the injects sent to it; the
facilitator's view reads every world. Nothing here decides anything.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from crisislab.play.letters import (
    arrival_words,
    channel_words,
    channels,
    channels_for,
    delay_turns,
    joins,
    terms,
    transit_hours,
    who_words,
)
from crisislab.play.session import HUMAN, Session, injectable
from crisislab.scenario.display import actor_name, format_value, turn_words, variable_label
from crisislab.scenario.model import Scenario
from crisislab.web.classroom import Classroom
from crisislab.web.models import ClassRow, PlayerRow


def date_of(sc: Scenario, turn: int) -> str:
    return turn_words(sc, min(turn, len(sc.clock) - 1))


def _label(sc: Scenario, actor: str, action: str) -> str:
    return next((a.label for a in sc.actions_of(actor) if a.id == action), action)


def _clock(room: Classroom, row: ClassRow, world: int) -> dict[str, Any]:
    left = room.seconds_left(row, world)
    return {
        "status": row.status,
        "by_hand": row.turn_seconds is None,
        "seconds_left": None if left is None else int(round(left)),
    }


def seat_view(room: Classroom, row: ClassRow, p: PlayerRow) -> dict[str, Any]:
    """Everything a member of one seat may see now."""
    live = room.live(row)
    sc = live.scenario
    session = live.worlds[p.world]
    everyone = room.players(row)
    names = {x.id: x.name for x in everyone}
    team = [x for x in everyone if x.world == p.world and x.actor == p.actor]
    choices, drafts, votes = room.pending(row, p.world)
    mine = next((c for c in choices if c.actor == p.actor), None)
    b = room.briefing(row, p.world, p.actor)
    delay = delay_turns(sc)
    return {
        # the revision the data was read at (or after): never newer than what is shown
        "class": {"code": row.code, "title": row.title, "revision": row.revision},
        "me": {
            "name": p.name,
            "role": p.role,
            "world": p.world,
            "seat": p.actor,
            "seat_name": b["actor_name"],
            "leader": b["leader"],
        },
        "team": [{"name": x.name, "role": x.role} for x in team],
        "turn": session.turn,
        "date": date_of(sc, session.turn),
        "phase": b["phase"],
        "position": b["position"],
        "clock": _clock(room, row, p.world),
        "done": session.done,
        "outcome": sc.outcome(session.outcome).label if session.outcome else None,
        "chosen": None
        if mine is None
        else {
            "action": mine.action,
            "label": _label(sc, p.actor, mine.action),
            "followed": mine.followed,
            "by": names.get(mine.player_id or -1, ""),
        },
        "votes": [
            {
                "name": names.get(v.player_id, ""),
                "action": v.action,
                "label": _label(sc, p.actor, v.action),
            }
            for v in votes
            if v.actor == p.actor
        ],
        "letters_this_turn": [
            {
                **d.letter,
                "by": names.get(d.player_id, ""),
                "to_name": actor_name(sc, d.letter["to"]),
            }
            for d in drafts
            if d.actor == p.actor
        ],
        "injects": [
            {"sender": i.sender, "text": i.text, "date": date_of(sc, i.turn), "turn": i.turn}
            for i in room.injects_for(row, p.world, p.actor)
        ],
        "recipients": [
            {"id": a, "name": actor_name(sc, a)}
            for a in sc.actors
            if a != p.actor and channels_for(sc, p.actor, a)
        ],
        "channels": [
            {
                "id": c.id,
                "name": c.label,
                "public": c.public,
                "to": [a for a in sc.actors if joins(sc, c, p.actor, a)],
                "to_names": who_words(sc, c, p.actor),
                "delay_turns": delay_turns(sc, channel=c),
                "arrives": arrival_words(
                    sc, session.turn, session.turn + delay_turns(sc, channel=c)
                ),
                "words": channel_words(sc, c, p.actor, session.turn),
            }
            for c in channels_for(sc, p.actor)
        ],
        "terms": [{"id": k, "text": v} for k, v in terms(sc).items()],
        "letter_delay": {
            "private_turns": delay,
            "private_hours": transit_hours(sc, session.turn, session.turn + delay),
            "public_turns": delay_turns(sc, public=True),
        },
        "briefing": b,
    }


def world_view(room: Classroom, row: ClassRow, number: int) -> dict[str, Any]:
    """One world as the facilitator sees it: every seat's screen, letters, the state."""
    live = room.live(row)
    sc = live.scenario
    session = live.worlds[number]
    everyone = room.players(row)
    players = [x for x in everyone if x.world == number]
    names = {x.id: x.name for x in everyone}
    choices, drafts, votes = room.pending(row, number)
    chosen = {c.actor: c for c in choices}
    seats = []
    for actor, spec in session.setup.seats.items():
        c = chosen.get(actor)
        seats.append(
            {
                "seat": actor,
                "name": actor_name(sc, actor),
                "played_by": spec,
                "members": [{"name": x.name, "role": x.role} for x in players if x.actor == actor],
                "chosen": None
                if c is None
                else {"label": _label(sc, actor, c.action), "by": names.get(c.player_id or -1, "")},
                "votes": [
                    {"name": names.get(v.player_id, ""), "label": _label(sc, actor, v.action)}
                    for v in votes
                    if v.actor == actor
                ],
                "letters_this_turn": [d.letter for d in drafts if d.actor == actor],
                "screen": room.briefing(row, number, actor) if spec == HUMAN else None,
            }
        )
    return {
        "world": number,
        "turn": session.turn,
        "date": date_of(sc, session.turn),
        "clock": _clock(room, row, number),
        "done": session.done,
        "outcome": sc.outcome(session.outcome).label if session.outcome else None,
        "seats": seats,
        "letters": [_letter(sc, session, x) for x in session.letters],
        "state": state_facts(session),
        "injects": [
            {
                "sender": i.sender,
                "text": i.text,
                "to": actor_name(sc, i.to) if i.to else "every seat",
                "date": date_of(sc, i.turn),
            }
            for i in room.injects_for(row, number, None)
        ],
        "events_injected": injected_events(session)
        + [
            {
                "event": e,
                "label": sc.event(e).label,
                "date": date_of(sc, session.turn),
                "turn": session.turn,
                "happened": None,
            }
            for e in room.pending_events(row, number)
        ],
    }


def injected_events(session: Session) -> list[dict[str, Any]]:
    """The events the facilitator injected into a world, turn by turn, and whether each
    happened (its condition may have stopped holding during its turn)."""
    sc = session.scenario
    out = []
    for trace in session.traces:
        fired = {h["id"] for h in trace.happenings if h["kind"] == "event"}
        for e in trace.injected:
            out.append(
                {
                    "event": e,
                    "label": sc.event(e).label,
                    "date": date_of(sc, trace.turn),
                    "turn": trace.turn,
                    "happened": e in fired,
                }
            )
    return out


def state_facts(session: Session) -> list[dict[str, str]]:
    """The world's true state, in words (the facilitator only)."""
    from crisislab.scenario.display import variable_label

    sc = session.scenario
    out = []
    for i, v in enumerate(sc.variables):
        if v.derived:
            continue
        value = float(session.state.values[i, 0])
        out.append({"label": variable_label(sc, v.id), "value": format_value(sc, v.id, value)})
    return out


def _letter(sc: Scenario, session: Session, x: Any) -> dict[str, Any]:
    by = next((c.label for c in channels(sc) if c.id == x.channel), "")
    return {
        "id": x.id,
        "from": actor_name(sc, x.sender),
        "to": actor_name(sc, x.to),
        "public": x.public,
        "channel": x.channel,
        "channel_name": by,
        "terms": list(x.terms),
        "text": x.text,
        "terms_words": [terms(sc).get(t, t) for t in x.terms],
        "stance": x.stance,
        "reply_to": x.reply_to,
        "written": date_of(sc, x.turn),
        "arrives": date_of(sc, x.arrives) if x.arrives < len(sc.clock) else "after the end",
        "delivered": x.delivered,
    }


def class_view(room: Classroom, row: ClassRow) -> dict[str, Any]:
    sc = room.live(row).scenario
    return {
        "code": row.code,
        "title": row.title,
        "status": row.status,
        "revision": row.revision,
        "worlds": row.worlds,
        "injectable": [{"event": e, "label": sc.event(e).label} for e in injectable(sc)],
        "by_hand": row.turn_seconds is None,
        "turn_seconds": row.turn_seconds,
        "seats": row.seats,
        "players": [
            {"name": x.name, "world": x.world, "seat": x.actor, "role": x.role}
            for x in room.players(row)
        ],
        "world_views": [world_view(room, row, n) for n in range(1, row.worlds + 1)],
    }


# ---- the class debrief and the exports ---------------------------------------------------


def decisions(room: Classroom, row: ClassRow, number: int) -> list[dict[str, Any]]:
    """Every turn's choice of every seat people played, with who made it."""
    live = room.live(row)
    sc = live.scenario
    session = live.worlds[number]
    names = {x.id: x.name for x in room.players(row)}
    by = {
        (c.turn, c.actor): names.get(c.player_id or -1, "") for c in room.choices_made(row, number)
    }
    out = []
    for record in session.log:
        for actor, action in record["choices"].items():
            out.append(
                {
                    "world": number,
                    "turn": record["turn"],
                    "date": date_of(sc, record["turn"]),
                    "seat": actor,
                    "choice": action,
                    "choice_label": _label(sc, actor, action),
                    "followed_record": actor in record.get("followed", []),
                    "chosen_by": by.get((record["turn"], actor), ""),
                }
            )
    return out


def export(room: Classroom, row: ClassRow) -> dict[str, Any]:
    live = room.live(row)
    sc = live.scenario
    return {
        "class": row.code,
        "scenario": sc.id,
        "version": sc.version,
        "content_hash": sc.content_hash,
        "worlds": [
            {
                "world": n,
                "game_id": live.game_ids[n],
                "seed": live.worlds[n].setup.seed,
                "outcome": live.worlds[n].outcome,
                "decisions": decisions(room, row, n),
                "injected": [{"world": n, **x} for x in injected_events(live.worlds[n])],
                "letters": [
                    {"world": n, **_letter(sc, live.worlds[n], x)} for x in live.worlds[n].letters
                ],
            }
            for n in range(1, row.worlds + 1)
        ],
    }


def export_csv(room: Classroom, row: ClassRow) -> str:
    """One table: each decision and each letter of every world, one row each."""
    data = export(room, row)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "world",
            "kind",
            "date",
            "seat_or_from",
            "to",
            "choice_or_terms",
            "label_or_text",
            "chosen_by_or_public",
            "followed_record_or_delivered",
        ]
    )
    for world in data["worlds"]:
        for d in world["decisions"]:
            w.writerow(
                [
                    world["world"],
                    "decision",
                    d["date"],
                    d["seat"],
                    "",
                    d["choice"],
                    d["choice_label"],
                    d["chosen_by"],
                    d["followed_record"],
                ]
            )
        for x in world["letters"]:
            w.writerow(
                [
                    world["world"],
                    "letter",
                    x["written"],
                    x["from"],
                    x["to"],
                    " ".join(x["terms"]),
                    x["text"],
                    x["public"],
                    x["delivered"],
                ]
            )
        for x in world["injected"]:
            w.writerow(
                [
                    world["world"],
                    "inject",
                    x["date"],
                    "facilitator",
                    "",
                    x["event"],
                    x["label"],
                    "",
                    x["happened"],
                ]
            )
    return buf.getvalue()


def class_debrief(room: Classroom, row: ClassRow) -> dict[str, Any]:
    """Each world's debrief (play/debrief.py) side by side, the essay questions first."""
    from crisislab.play.debrief import to_json

    live = room.live(row)
    worlds = []
    essays: dict[str, dict[str, Any]] = {}
    for n in range(1, row.worlds + 1):
        d = room.debrief(row, n)
        data = to_json(d)
        worlds.append(
            {
                "world": n,
                "outcome": d.outcome_label,
                "outcome_summary": d.outcome_summary,
                "end": d.when(d.end_label),
                "finished": d.finished,
                "history_outcome": d.history_outcome_label,
                "history_end": d.when(d.history_end_label),
                "left_record": None
                if d.first_divergence is None
                else {"date": d.when(d.first_divergence.label), "cause": d.first_divergence.cause},
                "terms": [
                    {"term": variable_label(live.scenario, t), "world": g, "history": h}
                    for t, g, h in d.terms
                ],
                "decisions": [
                    {
                        "date": d.when(x.label),
                        "seat": actor_name(live.scenario, x.actor),
                        "choice": x.choice_label,
                        "instead_of": x.alternative_label,
                        "from": x.alternative_from,
                        "effects": [
                            {
                                "outcome": label,
                                "points": round(100 * x.effect[oid].p, 1),
                                "low": round(100 * x.effect[oid].low, 1),
                                "high": round(100 * x.effect[oid].high, 1),
                            }
                            for oid, label in d.outcomes
                            if abs(x.effect[oid].p) >= 0.005
                        ],
                    }
                    for x in d.decisions
                ],
                "escalation": [
                    {
                        "date": d.when(d.turn_labels.get(t, str(t))),
                        "level": e,
                        "rung": d.escalation_labels.get(int(e), ""),
                    }
                    for t, e in d.curve_game
                ],
                "peak": max((e for _, e in d.curve_game), default=0.0),
                "injected": injected_events(live.worlds[n]),
                "odds": data["start"],
                "runs": d.runs,
            }
        )
        for e in d.essays:
            entry = essays.setdefault(
                e.question,
                {
                    "question": e.question,
                    "locator": e.locator,
                    "sources": [asdict(s) for s in e.sources],
                    "worlds": [],
                },
            )
            entry["worlds"].append({"world": n, "evidence": list(e.game)})
    return {
        "class": row.code,
        "title": row.title,
        "essays": list(essays.values()),
        "worlds": worlds,
        "escalation_rungs": {str(k): v for k, v in live.scenario.escalation_labels.items()},
    }
