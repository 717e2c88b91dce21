"""A scenario's rules as markdown reference tables: variables, actions, events and
parameters, each row with its source or assumption.

``docs/model.md`` embeds these tables for ``cuba-1962``, and a test checks that they are
what this module makes of the scenario file, so the explanation cannot drift from the
rules. ``python -m crisislab.reference cuba-1962`` prints them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from crisislab.scenario.model import Scenario
from crisislab.scenario.schema import Citation


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


def cites(
    scenario: Scenario, cite: Iterable[Citation] | None, assumption: str | None = None
) -> str:
    """Citations as the tables show them: seeds with locator and anchor, references as
    links with their locator, then the assumption."""
    sources = {s.id: s for s in scenario.spec.sources}
    parts = []
    for c in cite or ():
        s = sources[c.source]
        if s.kind == "seed":
            parts.append(
                f"{c.source}, {c.locator}: “{c.anchor}”" if c.anchor else f"{c.source}, {c.locator}"
            )
        else:
            parts.append(f"[{c.source}]({s.url}) ({c.locator})")
    if assumption:
        parts.append(f"*Assumption:* {_flat(assumption)}")
    return "; ".join(parts)


def _num(v: float) -> str:
    return f"{v:g}"


def parameters_table(scenario: Scenario) -> str:
    rows = [
        "| id | value | range | unit | what it is | source or assumption |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in scenario.spec.parameters:
        rows.append(
            f"| `{p.id}` | {_num(p.value)} | {_num(p.range[0])} – {_num(p.range[1])} "
            f"| {p.unit or ''} | {_flat(p.description)} "
            f"| {cites(scenario, p.cite, p.assumption)} |"
        )
    return "\n".join(rows)


def events_table(scenario: Scenario) -> str:
    rows = [
        "| id | kind | fires when | rate per day, or chance per turn | effects | level | sources |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in scenario.spec.events:
        kind = e.kind + (", once" if e.once else "") + (", incident" if e.incident else "")
        if e.rate is not None:
            chance = f"`{_flat(e.rate)}` a day"
        elif e.hazard is not None:
            chance = f"`{_flat(e.hazard)}` a turn"
        else:
            chance = "—"
        effects = "<br>".join(f"`{_flat(x)}`" for x in e.effects) or "none"
        level = "—" if e.escalation is None else str(e.escalation)
        rows.append(
            f"| `{e.id}`: {_flat(e.label)} | {kind} | `{_flat(e.when)}` | {chance} "
            f"| {effects} | {level} | {cites(scenario, e.cite)} |"
        )
    return "\n".join(rows)


def actions_table(scenario: Scenario, actor: str) -> str:
    rows = [
        "| id | available when | effects | level | sources |",
        "| --- | --- | --- | --- | --- |",
    ]
    for a in scenario.spec.actions:
        if a.actor != actor:
            continue
        parts = [f"`{_flat(x)}`" for x in a.effects]
        if a.sends:
            parts.append(f"sends `{a.sends}`")
        if a.visibility != "public":
            seen = a.visibility if isinstance(a.visibility, str) else ", ".join(a.visibility)
            parts.append(f"seen by: {seen}")
        rows.append(
            f"| `{a.id}`: {_flat(a.label)} | `{_flat(a.when)}` "
            f"| {'<br>'.join(parts) or 'none'} | {a.escalation} "
            f"| {cites(scenario, a.cite)} |"
        )
    return "\n".join(rows)


def _seen(observer: object) -> str:
    if observer == "all":
        return "all"
    if isinstance(observer, list):
        return ", ".join(observer)
    if isinstance(observer, dict):
        return "; ".join(
            f"{k}: " + ("always" if v is True else "never" if v is False else f"`{_flat(str(v))}`")
            for k, v in observer.items()
        )
    return str(observer)


def variables_table(scenario: Scenario) -> str:
    rows = [
        "| id | type and range | initial | seen by | what it is | source or assumption |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for v in scenario.spec.variables:
        if v.type == "enum":
            kind = "enum: " + ", ".join(v.values or [])
        elif v.type == "bool":
            kind = "bool"
        else:
            kind = (
                f"{v.type} {_num(v.min if v.min is not None else 0)}.."
                f"{_num(v.max if v.max is not None else 0)}"
            )
        initial = str(v.initial) if not isinstance(v.initial, float) else _num(v.initial)
        rows.append(
            f"| `{v.id}` | {kind} | {initial} | {_seen(v.observed_by)} "
            f"| {_flat(v.description)} | {cites(scenario, v.cite, v.assumption)} |"
        )
    return "\n".join(rows)


def outcomes_table(scenario: Scenario) -> str:
    players = [a.id for a in scenario.spec.actors if a.role == "player"]
    rows = [
        "| order | id | ends the crisis when | level | "
        + " | ".join(f"payoff {a}" for a in players)
        + " | sources |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in players) + " | --- |",
    ]
    for i, o in enumerate(scenario.spec.outcomes, start=1):
        pay = " | ".join(f"`{_flat(str(o.payoffs[a]))}`" if a in o.payoffs else "" for a in players)
        when = "the last turn, if nothing else" if o.default else f"`{_flat(o.when)}`"
        rows.append(
            f"| {i} | `{o.id}` | {when} | {o.escalation} | {pay} | {cites(scenario, o.cite)} |"
        )
    return "\n".join(rows)


def tables(scenario: Scenario) -> dict[str, str]:
    """Every table, by name (``actions:<actor>`` per acting actor)."""
    out = {"variables": variables_table(scenario)}
    for actor in scenario.players:
        out[f"actions:{actor}"] = actions_table(scenario, actor)
    out["events"] = events_table(scenario)
    out["outcomes"] = outcomes_table(scenario)
    out["parameters"] = parameters_table(scenario)
    return out


def main(argv: list[str]) -> None:  # pragma: no cover - a developer's helper
    from crisislab.scenario.loader import load_scenario

    for name, table in tables(load_scenario(argv[0] if argv else "cuba-1962")).items():
        print(f"<!-- {name} -->\n{table}\n")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
