"""Plain words for what a scenario holds: names, values and sources as a reader sees them.

Everything a person reads (the chronicle, the game, the debrief) should say "missiles in
Cuba: 36 → 37" and "US readiness: DEFCON 5 → DEFCON 3", never ``missiles_in_cuba: 36.75``.
The words come from the scenario file (``label``, ``unit``, ``percent``, ``value_labels``
of a variable; ``short_name`` of an actor; ``short`` of a source); where a file gives
none, the id is turned into words so that no code name reaches the screen.
"""

from __future__ import annotations

import datetime as dt

from crisislab.scenario.model import Scenario
from crisislab.scenario.schema import Citation, Source, Variable


def words_of(ident: str) -> str:
    """``missiles_at_sea`` -> ``missiles at sea``: the fallback when a file gives no label."""
    return ident.replace("_", " ")


def _spec_variable(scenario: Scenario, name: str) -> Variable | None:
    return next((v for v in scenario.spec.variables if v.id == name), None)


def variable_label(scenario: Scenario, name: str) -> str:
    v = _spec_variable(scenario, name)
    if v is not None and v.label:
        return v.label
    for m in scenario.spec.messages:  # the derived flags of a message
        for suffix, verb in (("_sent", "sent"), ("_received", "received")):
            if name == m.id + suffix:
                return f"{words_of(m.id)} {verb}"
    return words_of(name)


def shows_in_chronicle(scenario: Scenario, name: str) -> bool:
    v = _spec_variable(scenario, name)
    return v is not None and v.chronicle


def plain_number(value: float, span: float) -> str:
    """Round as a person would: whole numbers for counts and wide scales, one decimal on
    narrow scales, thousands separated, never ``0.785714``."""
    if abs(value - round(value)) < 1e-9 or span >= 20 or abs(value) >= 100:
        return f"{round(value):,}"
    text = f"{value:.1f}"
    return "0" if text in ("0.0", "-0.0") else text


def format_value(scenario: Scenario, name: str, value: float) -> str:
    """One value of a variable in the words and units the scenario declares."""
    rule = scenario.variable(name)
    v = _spec_variable(scenario, name)
    labels = (v.value_labels or {}) if v is not None else {}
    if rule.type == "bool":
        key = "true" if value else "false"
        return labels.get(key, "yes" if value else "no")
    if rule.type == "enum" and rule.values is not None:
        state = rule.values[int(value)]
        return labels.get(state, words_of(state))
    if v is not None and v.unit == "turn":  # a turn number: say which turn it was
        if f"{int(value)}" in labels:
            return labels[f"{int(value)}"]
        if 0 <= value < len(scenario.clock):
            return turn_words(scenario, int(value))
        return "not yet"
    if v is not None and v.unit == "day":  # days from the clock's first: say which date
        return day_words(scenario, value)
    key = f"{int(round(value))}" if abs(value - round(value)) < 1e-9 else f"{value:g}"
    if key in labels:
        return labels[key]
    if v is not None and v.percent:
        return f"{round(value * 100)}%"
    text = plain_number(value, rule.high - rule.low)
    if v is not None and v.unit == "percent":
        return f"{text}%"
    return text


def format_change(scenario: Scenario, name: str, before: float, after: float) -> str:
    """``missiles in Cuba: 36 → 37``; the unit is added when the label does not say it."""
    label = variable_label(scenario, name)
    old, new = format_value(scenario, name, before), format_value(scenario, name, after)
    v = _spec_variable(scenario, name)
    unit = v.unit if v is not None else None
    if (
        unit
        and unit not in ("percent", "turn", "day")
        and scenario.variable(name).type in ("int", "float")
        and unit.split("/")[0] not in label.split()
        and not (v is not None and (v.percent or v.value_labels))
    ):
        new = f"{new} {unit}"
    return f"{label}: {old} → {new}"


def day_words(scenario: Scenario, day: float) -> str:
    """A day counted from the clock's first (``agreement_day``): the turn it opens, in
    words (``28 October 1962, morning``), else its date; "not yet" before the first."""
    if day < 0:
        return "not yet"
    for t in scenario.clock.turns:
        if abs(t.day - day) < 1e-9:
            return turn_words(scenario, t.index).removeprefix("week of ")
    date = scenario.clock.epoch + dt.timedelta(days=int(day))
    return long_date(date.isoformat(), weekday=False)


def turn_words(scenario: Scenario, turn: int, weekday: bool = False, year: bool = True) -> str:
    """``22 October 1962, evening`` or ``week of 12 July 1962``; with ``weekday`` and
    without ``year``: ``Monday 22 October, evening``."""
    t = scenario.clock.turns[turn]
    day = long_date(t.date.isoformat(), weekday=weekday, year=year)
    if t.half:
        return f"{day}, {'morning' if t.half == 'am' else 'evening'}"
    if t.step_days > 1:
        return f"week of {day}"
    return day


def label_words(scenario: Scenario, label: str) -> str:
    """A turn's label as a reader says it (``1962-10-27 pm`` -> ``27 October 1962,
    evening``); a plain ISO date in words; anything else as it is."""
    for t in scenario.clock.turns:
        if t.label == label:
            return turn_words(scenario, t.index)
    try:
        return long_date(label, weekday=False)
    except ValueError:
        return label


def long_date(iso: str, weekday: bool = True, year: bool = True) -> str:
    """``1962-10-22`` -> ``Monday 22 October 1962``."""
    import datetime as dt

    d = dt.date.fromisoformat(iso)
    text = f"{d.day} {d:%B %Y}" if year else f"{d.day} {d:%B}"
    return f"{d:%A} {text}" if weekday else text


def actor_name(scenario: Scenario, actor: str | None) -> str:
    """How a chronicle names an actor: ``Kennedy``, not ``usa``."""
    if actor is None:
        return ""
    for a in scenario.spec.actors:
        if a.id == actor:
            return a.display_name
    return words_of(actor)


def source_name(source: Source) -> str:
    """A short name for a document in a row: ``CIA memorandum of 7 December 1962``."""
    return source.short or source.title


def cite_words(scenario: Scenario, c: Citation) -> str:
    """``CIA memorandum, The Crucial period: “7 September action”`` (plain text)."""
    source = next((s for s in scenario.spec.sources if s.id == c.source), None)
    name = source_name(source) if source is not None else words_of(c.source)
    anchor = f": “{c.anchor}”" if c.anchor else ""
    return f"{name}, {c.locator}{anchor}"
