"""Problems found in a scenario file, with where they are and how to fix them."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (file, line, column, field path), what, how
    to fix it."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        """``FILE:LINE:COLUMN: PATH: MESSAGE (fix: HINT)``, always on one line."""
        where = _one_line(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {_one_line(self.path)}:" if self.path else ""
        text = f"{where}:{field} {_one_line(self.message)}"
        if self.hint:
            text += f" (fix: {_one_line(self.hint)})"
        return text


def _one_line(text: str) -> str:
    """Text from the scenario may hold line breaks and control characters: escape them."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class ScenarioError(Exception):
    """A scenario that cannot be loaded; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(path: Sequence[str | int]) -> str:
    """``('actions', 3, 'when')`` -> ``actions[3].when``; a key that is not a plain name
    is quoted: ``payoffs["Red Team"]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out
