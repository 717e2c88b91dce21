"""Scripted play: a game's moves read from a file instead of a keyboard.

A moves file is a YAML (or JSON) list with one item per step of the played seat::

    - follow: 1962-05-31        # the record's choices up to and including this turn
    - choose: usa_public_warning
    - choose: usa_wait
      letter: {to: ussr, private: true, ask: [withdrawal], offer: [], text: "Remove them."}
    - follow: end               # the record's choices to the end of the crisis

``follow`` plays what :func:`~crisislab.play.session.follow_choice` gives (the record's
choice where it is available, otherwise the seat's stand-in); ``choose`` plays one
action. The file is checked whole before anything is played (:func:`parse_moves`), and
each move again when its turn comes (:func:`play_moves`), so a bad file gets a message
naming the item, the field and the fix, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crisislab.play.letters import (
    MAX_LETTERS_PER_TURN,
    LetterError,
    can_write,
    channels,
    clean_text,
    joins,
)
from crisislab.play.letters import terms as scenario_terms
from crisislab.play.session import GameError, Session, follow_choice
from crisislab.scenario.model import Scenario


class MovesError(ValueError):
    """A moves file that cannot be played; ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class Move:
    """One item of a moves file: follow up to ``until`` (a turn index, or None for the
    end of the crisis), or choose ``action`` with ``letters``."""

    item: int  # 1-based, as the person counts the items of the file
    kind: str  # "follow" or "choose"
    until: int | None = None
    until_text: str = ""
    action: str = ""
    letters: tuple[dict[str, Any], ...] = field(default_factory=tuple)


ITEM_KEYS = {"follow", "choose", "letter"}
LETTER_KEYS = {"to", "private", "channel", "ask", "offer", "text"}
EXAMPLE = (
    "write one item per step, '- follow: DATE' (a date like 1962-05-31, or end) or "
    "'- choose: ACTION' (an action id of your seat)"
)


MAX_BYTES = 1_000_000


class _NoAliases(yaml.SafeLoader):
    """YAML without anchors and aliases: a moves file needs none, and refusing them
    keeps a small file from expanding into a huge one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise MovesError(
                f"the moves file uses a YAML alias (*{event.anchor}) at line "
                f"{event.start_mark.line + 1}",
                "write each move out in full",
            )
        return super().compose_node(parent, index)


# dates stay text, so that a date that cannot be (1962-13-01) is reported with its item
_NoAliases.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in rules if tag != "tag:yaml.org,2002:timestamp"]
    for key, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_moves(path: Path) -> Any:
    """The file's raw content (YAML is a superset of JSON, so one parser reads both)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MovesError(
                f"the file is larger than {MAX_BYTES:,} bytes; a moves file is a short list",
                "keep one item per step",
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MovesError(
            "there is no moves file there", "give the path of a YAML or JSON list of moves"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise MovesError(f"the moves file cannot be read: {e}", "save it as UTF-8 text") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.load(text, Loader=_NoAliases)  # noqa: S506 (a safe loader)
    except RecursionError:
        raise MovesError(
            "the file nests lists or mappings too deeply for a moves file", EXAMPLE
        ) from None
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        where = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(e, json.JSONDecodeError):
            where = f" at line {e.lineno}, column {e.colno}"
        raise MovesError(
            f"the file is not valid {'JSON' if path.suffix == '.json' else 'YAML'}{where}", EXAMPLE
        ) from None


def parse_moves(raw: Any, scenario: Scenario, actor: str) -> list[Move]:
    """Check a moves file's content against the scenario and the played seat."""
    if not isinstance(raw, list) or not raw:
        raise MovesError("the moves file should be a list with one item per step", EXAMPLE)
    own = {a.id for a in scenario.actions_of(actor)}
    moves: list[Move] = []
    for i, item in enumerate(raw, start=1):
        where = f"item {i}"
        if not isinstance(item, dict):
            raise MovesError(f"{where} is {_shown(item)}, not a mapping", EXAMPLE)
        unknown = sorted(str(k) for k in item if k not in ITEM_KEYS)
        if unknown:
            raise MovesError(
                f"{where} has an unknown field '{unknown[0]}'",
                "the fields are: follow, choose, letter",
            )
        if ("follow" in item) == ("choose" in item):
            raise MovesError(f"{where} needs exactly one of 'follow' and 'choose'", EXAMPLE)
        if "follow" in item:
            if "letter" in item:
                raise MovesError(
                    f"{where}: a letter goes with a 'choose' item, not with 'follow'",
                    "put the letter on a 'choose' item of its turn",
                )
            until, text = _until(item["follow"], scenario, where)
            moves.append(Move(i, "follow", until=until, until_text=text))
            continue
        action = item["choose"]
        if not isinstance(action, str) or action not in own:
            raise MovesError(
                f"{where}, field 'choose': {_shown(action)} is not an action of {actor}",
                "use one of: " + ", ".join(sorted(own)),
            )
        letters = _letters(item.get("letter"), scenario, actor, where)
        moves.append(Move(i, "choose", action=action, letters=letters))
    return moves


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def _until(value: Any, scenario: Scenario, where: str) -> tuple[int | None, str]:
    hint = "give a date of the scenario's clock, like 1962-10-16 or '1962-10-22 pm', or 'end'"
    if isinstance(value, str) and value.strip().lower() == "end":
        return None, "end"
    half: str | None = "pm"  # a bare date: up to and including its last turn
    date: dt.date | None = None
    if isinstance(value, dt.datetime):
        date = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        head, _, tail = value.strip().partition(" ")
        try:
            date = dt.date.fromisoformat(head)
        except ValueError:
            date = None
        if tail.strip():
            half = tail.strip().lower()
            if half not in ("am", "pm"):
                raise MovesError(
                    f"{where}, field 'follow': '{value}' has '{tail.strip()}' "
                    "where am or pm belongs",
                    hint,
                )
    if date is None:
        raise MovesError(f"{where}, field 'follow': {_shown(value)} is not a date or 'end'", hint)
    turn = scenario.clock.turn_of(date, half)
    if turn is None:
        first, last = scenario.clock.turns[0], scenario.clock.turns[-1]
        raise MovesError(
            f"{where}, field 'follow': {date.isoformat()} is outside the "
            f"scenario's clock ({first.label} to {last.label})",
            hint,
        )
    return turn, scenario.clock.turns[turn].label


def _letters(value: Any, scenario: Scenario, actor: str, where: str) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_LETTERS_PER_TURN:
        raise MovesError(
            f"{where}, field 'letter': {len(items)} letters; a turn allows {MAX_LETTERS_PER_TURN}",
            "spread them over several turns",
        )
    out = []
    for j, x in enumerate(items, start=1):
        at = f"{where}, field 'letter'" + (f" {j}" if len(items) > 1 else "")
        if not isinstance(x, dict):
            raise MovesError(
                f"{at} is {_shown(x)}, not a mapping",
                'write it as {to: ACTOR, private: true, ask: [TERM], offer: [], text: "..."}',
            )
        unknown = sorted(str(k) for k in x if k not in LETTER_KEYS)
        if unknown:
            raise MovesError(
                f"{at} has an unknown field '{unknown[0]}'",
                "a letter's fields are: " + ", ".join(sorted(LETTER_KEYS)),
            )
        private = x.get("private", True)
        if not isinstance(private, bool):
            raise MovesError(
                f"{at}.private: {_shown(private)} is not true or false",
                "write private: true or private: false",
            )
        by = x.get("channel")
        known_channels = {c.id: c for c in channels(scenario)}
        if by is not None and (not isinstance(by, str) or by not in known_channels):
            raise MovesError(
                f"{at}.channel: {_shown(by)} is not a channel of the scenario",
                "use one of: " + ", ".join(known_channels),
            )
        if by is not None and "private" in x and private is known_channels[by].public:
            kind = "public" if known_channels[by].public else "private"
            raise MovesError(
                f"{at}.private: {_shown(private)}, but the channel {by} is {kind}",
                "leave out private: the channel says it",
            )
        if by is not None:
            private = not known_channels[by].public
            others = [a for a in scenario.actors if joins(scenario, known_channels[by], actor, a)]
        else:
            others = [a for a in scenario.actors if can_write(scenario, actor, a, not private)]
        to = x.get("to")
        if to not in others:
            where_by = f" by the channel {by}" if by is not None else ""
            raise MovesError(
                f"{at}.to: {_shown(to)} is not a party {actor} can write to{where_by}",
                "use one of: "
                + (", ".join(others) or "none: the scenario has no channel for such a letter"),
            )
        terms: dict[str, list[str]] = {}
        for key in ("ask", "offer"):
            got = x.get(key, [])
            if isinstance(got, str):
                got = [got]
            if not isinstance(got, list):
                raise MovesError(
                    f"{at}.{key}: {_shown(got)} is not a list of terms",
                    f"write {key}: [withdrawal] or {key}: []",
                )
            known = scenario_terms(scenario)
            for t in got:
                if t not in known:
                    raise MovesError(
                        f"{at}.{key}: {_shown(t)} is not a term",
                        "the terms are: " + (", ".join(known) or "none in this scenario"),
                    )
            terms[key] = list(dict.fromkeys(got))
        both = set(terms["ask"]) & set(terms["offer"])
        if both:
            raise MovesError(
                f"{at}: '{sorted(both)[0]}' is both asked for and offered",
                "name each term in ask or in offer, not both",
            )
        raw_text = x.get("text", "")
        if not isinstance(raw_text, str):
            raise MovesError(f"{at}.text: {_shown(raw_text)} is not text", 'quote it: text: "..."')
        try:
            text = clean_text(raw_text)
        except LetterError as e:
            raise MovesError(
                f"{at}.text: {e}", "shorten it or remove the special characters"
            ) from None
        draft = {
            "sender": actor,
            "to": to,
            "public": not private,
            "terms": terms["ask"] + terms["offer"],
            "ask": terms["ask"],
            "offer": terms["offer"],
            "text": text,
            "reply_to": None,
            "stance": "",
        }
        if by is not None:
            draft["channel"] = by
        out.append(draft)
    return tuple(out)


def play_moves(session: Session, actor: str, moves: list[Move]) -> int:
    """Play ``moves`` for ``actor`` until they or the crisis run out; return how many
    moves were left unplayed because the crisis ended first."""
    for k, move in enumerate(moves):
        if session.done:
            return len(moves) - k
        if move.kind == "follow":
            if move.until is not None and move.until < session.turn:
                raise MovesError(
                    f"item {move.item}, field 'follow': {move.until_text} is already past "
                    f"(the game is at {session.turn_label()})",
                    "give a later date, or remove the item",
                )
            while not session.done and (move.until is None or session.turn <= move.until):
                try:
                    session.play_turn({actor: follow_choice(session, actor)}, [], followed=(actor,))
                except GameError as e:  # a stand-in that chose what is not available
                    raise MovesError(
                        f"item {move.item}: following on {session.turn_label()} failed: {e}",
                        "report this: the seat's stand-in broke a rule",
                    ) from None
            continue
        legal, why = session.availability(actor)
        if not legal.get(move.action, False):
            raise MovesError(
                f"item {move.item}, field 'choose': {move.action} is not available on "
                f"{session.turn_label()}: {why.get(move.action, 'not available now')}",
                "choose another action, or follow the record to a later date first",
            )
        try:
            session.play_turn({actor: move.action}, list(move.letters))
        except GameError as e:
            raise MovesError(f"item {move.item}: {e}") from None
    return 0
