"""Plain words for the texts a person reads: no parameter names on screen.

A scenario's summaries may name the parameters their rule reads ("missiles leave the
island at withdrawal_rate"); on screen each such name becomes its value and unit
("at 3 missiles a day"), so a player reads a quantity, not an identifier.
"""

from __future__ import annotations

import re

from crisislab.scenario.model import Scenario

_IDENT = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_UNITS = {"percent": "%", "%": "%"}


def quantity(value: float, unit: str | None) -> str:
    """A parameter's value in words: ``3 turns``, ``75%``, ``3 missiles a day``."""
    number = f"{value:g}"
    if unit is None:
        return f"{value:.0%}" if 0 < value < 1 else number
    if unit in _UNITS:
        return f"{number}{_UNITS[unit]}"
    if "/" in unit:
        what, per = unit.split("/", 1)
        return f"{number} {what} a {per}"
    return f"{number} {unit}"


def plain(text: str, scenario: Scenario) -> str:
    """``text`` on one line, each parameter name replaced by its value and unit."""

    def swap(m: re.Match[str]) -> str:
        name = m.group(0)
        if name in scenario.parameters:  # (most texts name none: units are looked up here)
            unit = next((p.unit for p in scenario.spec.parameters if p.id == name), None)
            return quantity(scenario.parameters[name], unit)
        return name

    return _IDENT.sub(swap, " ".join(text.split()))
