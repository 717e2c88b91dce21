"""Choosing from a listed menu by number or by name, as a person types it.

The terminal's letter prompts list their choices (recipients, channels, terms) in
words, numbered; a reply is a number from the list or a name in words. A name matches
an item when it is one of the item's names (its words, or any other name it goes by:
a leader's name, an id), when it starts one of them (three letters or more), or, failing
both, when it is close to one of them and clearly closer than to any other item
(RapidFuzz's weighted ratio, at least :data:`FUZZY_CUTOFF`, ahead of the next item by
:data:`FUZZY_MARGIN`): "soviet", "Khrushchev", "krushchev" and "2" all choose the Soviet
Union. Anything else is refused with a message that says what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, utils

FUZZY_CUTOFF = 80.0
FUZZY_MARGIN = 8.0


class MenuError(ValueError):
    """A reply that chooses nothing on the menu; the message says what is allowed."""


@dataclass(frozen=True)
class Item:
    """One choice: what it stands for (``value``), its words, and other names for it."""

    value: str
    words: str
    names: tuple[str, ...] = field(default=())

    def all_names(self) -> list[str]:
        return [self.words, *self.names]


def listing(items: Sequence[Item]) -> str:
    """The menu as lines: ``  1. United States``."""
    return "\n".join(f"  {i}. {item.words}" for i, item in enumerate(items, start=1))


def _norm(text: str) -> str:
    return " ".join(utils.default_process(text).split())


def choose(text: str, items: Sequence[Item]) -> Item:
    """The item ``text`` chooses: a number of the menu or a name (see the module)."""
    raw = text.strip()
    if not raw:
        raise MenuError("Nothing typed. " + allowed(items))
    if raw.isdigit():
        n = int(raw)
        if 1 <= n <= len(items):
            return items[n - 1]
        raise MenuError(f"There is no choice {n}. " + allowed(items))
    typed = _norm(raw)
    if not typed:
        raise MenuError(f"'{raw}' is not one of the choices. " + allowed(items))
    exact = [it for it in items if any(_norm(n) == typed for n in it.all_names())]
    if len(exact) == 1:
        return exact[0]
    if len(typed) >= 3:
        starts = [it for it in items if any(_norm(n).startswith(typed) for n in it.all_names())]
        if len(starts) == 1:
            return starts[0]
        if len(starts) > 1:
            raise MenuError(
                f"'{raw}' could be "
                + " or ".join(f"{items.index(it) + 1} ({it.words})" for it in starts)
                + ". Type its number, or more of its name."
            )
    scores = sorted(
        (
            (max(fuzz.WRatio(typed, _norm(n)) for n in it.all_names()), i)
            for i, it in enumerate(items)
        ),
        reverse=True,
    )
    if (
        scores
        and scores[0][0] >= FUZZY_CUTOFF
        and (len(scores) == 1 or scores[0][0] - scores[1][0] >= FUZZY_MARGIN)
    ):
        return items[scores[0][1]]
    raise MenuError(f"'{raw}' is not one of the choices. " + allowed(items))


def choose_many(text: str, items: Sequence[Item]) -> list[Item]:
    """Several items: numbers or names separated by commas (``1, 3`` or ``1 3`` or
    ``withdrawal, a pledge not to invade``), each once, in the order typed."""
    raw = text.strip()
    numbers = raw.replace(",", " ").split()
    parts = numbers if all(p.isdigit() for p in numbers) else raw.replace(";", ",").split(",")
    chosen: list[Item] = []
    for part in (p for p in (x.strip() for x in parts) if p):
        item = choose(part, items)
        if item not in chosen:
            chosen.append(item)
    if not chosen:
        raise MenuError("Nothing typed. " + allowed(items))
    return chosen


def allowed(items: Sequence[Item]) -> str:
    """What a reply may be, in one line."""
    if not items:
        return "There is nothing to choose."
    sample = min((it.words for it in items), key=len)
    if len(sample) > 40:
        return f"Type a number from 1 to {len(items)}, or the first words of a name from the list."
    return f"Type a number from 1 to {len(items)}, or a name from the list (such as '{sample}')."
