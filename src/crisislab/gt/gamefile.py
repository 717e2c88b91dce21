"""Reading Gambit game files (``.efg`` extensive, ``.nfg`` strategic) with errors that
point at the line and column of the problem, never a traceback."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pygambit as gbt

MAX_BYTES = 50_000_000
_POSITION = re.compile(r"line (\d+):(\d+):\s*(.*)", re.S)


@dataclass
class GameFileError(ValueError):
    """A game file that cannot be read; ``line`` and ``column`` are 1-based (0: unknown)."""

    file: str
    line: int
    column: int
    message: str
    source_line: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: {self.message}"
        if self.source_line:
            caret = " " * max(self.column - 1, 0) + "^"
            text += f"\n  {self.source_line}\n  {caret}"
        return text


def _fail(path: str, text: str, line: int, column: int, message: str) -> GameFileError:
    lines = text.splitlines()
    source = lines[line - 1].rstrip() if 0 < line <= len(lines) else ""
    if len(source) > 160:  # keep the caret on screen for very long lines
        start = max(0, column - 80)
        source, column = source[start:start + 160], column - start
    return GameFileError(path, line, column, message, source)


def game_kind(text: str) -> str | None:
    """``efg``, ``nfg`` or None, from the file's first word."""
    head = text.lstrip()[:3].upper()
    return {"EFG": "efg", "NFG": "nfg"}.get(head)


def parse_game(text: str, path: str = "<game>") -> gbt.Game:
    """Parse the text of an ``.efg`` or ``.nfg`` file."""
    kind = game_kind(text)
    if kind is None:
        first = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()), 1)
        col = len(text.splitlines()[first - 1]) - len(text.splitlines()[first - 1].lstrip()) + 1 \
            if text.strip() else 1
        raise _fail(path, text, first, col,
                    "not a Gambit game file: it should start with 'EFG 2 R' (a tree) "
                    "or 'NFG 1 R' (a table)")
    import io

    reader = gbt.read_efg if kind == "efg" else gbt.read_nfg
    try:
        return reader(io.StringIO(text))
    except Exception as e:  # pygambit raises ValueError / RuntimeError with a position
        message = str(e).replace("Parse error in game file: ", "")
        m = _POSITION.search(message)
        if m:
            line, col = int(m.group(1)), int(m.group(2))
            raise _fail(path, text, line, col, m.group(3).strip() or "parse error") from None
        lines = text.splitlines()
        raise _fail(path, text, len(lines), 1, message or type(e).__name__) from None


def read_game(path: str | Path) -> gbt.Game:
    """Read a game file; every problem is a :class:`GameFileError`."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise GameFileError(str(p), 0, 0, f"larger than {MAX_BYTES // 1_000_000} MB")
        raw = p.read_bytes()
    except OSError as e:
        raise GameFileError(str(p), 0, 0, f"cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = e.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(str(p), raw.decode("utf-8", "replace"), line, col,
                    "not valid UTF-8 text") from None
    return parse_game(text, str(p))
