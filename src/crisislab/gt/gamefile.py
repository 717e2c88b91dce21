"""Reading Gambit game files (``.efg`` extensive, ``.nfg`` strategic) with errors that
point at the line and column of the problem, never a traceback.

Two repairs and one refusal happen on reading, each stated:

- chance probabilities written as decimals that add up to one within 1e-9 (as
  OpenSpiel's ``export_gambit`` writes 1/3 as 0.3333333333333333) are replaced by exact
  fractions that add up to one, with a warning naming the lines;
- an error pygambit reports without a position is placed, where this module can find the
  cause, on the line that causes it (a node's or an outcome's line), not the file's end;
- a tree with imperfect recall is refused, naming the information set and its line.

Node lines are read one per line, as Gambit and OpenSpiel write them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from crisislab.extras import missing_extra

with missing_extra("gt"):
    import pygambit as gbt

from crisislab.files import InputError, read_regular

MAX_BYTES = 50_000_000
_POSITION = re.compile(r"line (\d+):(\d+):\s*(.*)", re.S)
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|[{}]|[^\s{}"]+')
CHANCE_SLACK = Fraction(1, 10**9)  # decimals within this of one are rationalised


@dataclass
class ReadNotes:
    """What reading changed or found, for the caller to show."""

    warnings: list[str] = field(default_factory=list)


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
        source, column = source[start : start + 160], column - start
    return GameFileError(path, line, column, message, source)


def game_kind(text: str) -> str | None:
    """``efg``, ``nfg`` or None, from the file's first word."""
    head = text.lstrip()[:3].upper()
    return {"EFG": "efg", "NFG": "nfg"}.get(head)


def tokens(line: str) -> list[str]:
    """The tokens of one line of a game file: quoted strings, braces, words."""
    return _TOKEN.findall(line)


def node_lines(text: str) -> list[int]:
    """The 1-based line of each node of an .efg file, in the file's (pre-)order."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        t = line.lstrip()[:2]
        if t[:1] in ("p", "c", "t") and (len(t) == 1 or t[1].isspace()):
            out.append(i)
    return out


def rationalise_chance(text: str, path: str = "<game>") -> tuple[str, list[str]]:
    """Replace decimal chance probabilities that add up to one within 1e-9 by fractions
    that add up to one exactly; other sums are an error on their line."""
    lines = text.splitlines(keepends=True)
    changed: list[int] = []
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if not stripped.startswith("c ") and not stripped.startswith("c\t"):
            continue
        toks = tokens(line)
        if "{" not in toks or "}" not in toks:
            continue
        a, b = toks.index("{"), toks.index("}")
        body = toks[a + 1 : b]
        if len(body) % 2 or not body:
            continue
        try:
            probs = [Fraction(x) for x in body[1::2]]
        except (ValueError, ZeroDivisionError):
            col = line.find(next(x for x in body[1::2] if not _number(x))) + 1
            raise _fail(
                path, text, i + 1, col, "a chance probability is not a number (write 0.25 or 1/4)"
            ) from None
        total = sum(probs, Fraction(0))
        if total == 1:
            continue
        if abs(total - 1) > CHANCE_SLACK:
            col = line.find("{") + 1
            raise _fail(
                path,
                text,
                i + 1,
                col,
                f"the chance probabilities add up to {float(total):.12g}, not 1",
            )
        exact = _round_to_one(probs)
        new_body = " ".join(f"{lab} {q}" for lab, q in zip(body[0::2], exact, strict=True))
        head = line[: line.index("{")]
        tail = line[_closing_brace(line) + 1 :]
        lines[i] = f"{head}{{ {new_body} }}{tail}"
        changed.append(i + 1)
    warnings = []
    if changed:
        where = ", ".join(map(str, changed[:8])) + (" ..." if len(changed) > 8 else "")
        warnings.append(
            f"{path}: chance probabilities on {len(changed)} line"
            f"{'s' if len(changed) > 1 else ''} ({where}) added up to one only "
            "within 1e-9; they were replaced by exact fractions that do"
        )
    return "".join(lines), warnings


def _number(x: str) -> bool:
    try:
        Fraction(x)
    except (ValueError, ZeroDivisionError):
        return False
    return True


def _closing_brace(line: str) -> int:
    """Index of the '}' that closes the first '{' outside quotes."""
    quoted = False
    for j, ch in enumerate(line):
        if ch == '"' and (j == 0 or line[j - 1] != "\\"):
            quoted = not quoted
        elif ch == "}" and not quoted:
            return j
    return len(line) - 1


def _round_to_one(probs: list[Fraction]) -> list[Fraction]:
    """Simple fractions within 1e-9 of each probability if they add up to one (1/3 for
    0.3333333333333333), else the probabilities divided by their sum."""
    for den in (10**3, 10**6, 10**9):
        simple = [p.limit_denominator(den) for p in probs]
        if sum(simple) == 1 and all(
            abs(q - p) <= CHANCE_SLACK for q, p in zip(simple, probs, strict=True)
        ):
            return simple
    total = sum(probs, Fraction(0))
    return [p / total for p in probs]


def parse_game(text: str, path: str = "<game>", notes: ReadNotes | None = None) -> gbt.Game:
    """Parse the text of an ``.efg`` or ``.nfg`` file; warnings go to ``notes``."""
    kind = game_kind(text)
    if kind is None:
        first = next((i for i, ln in enumerate(text.splitlines(), 1) if ln.strip()), 1)
        col = (
            len(text.splitlines()[first - 1]) - len(text.splitlines()[first - 1].lstrip()) + 1
            if text.strip()
            else 1
        )
        raise _fail(
            path,
            text,
            first,
            col,
            "not a Gambit game file: it should start with 'EFG 2 R' (a tree) "
            "or 'NFG 1 R' (a table)",
        )
    import io

    if kind == "efg":
        text, warnings = rationalise_chance(text, path)
        if notes is not None:
            notes.warnings.extend(warnings)
    reader = gbt.read_efg if kind == "efg" else gbt.read_nfg
    try:
        game = reader(io.StringIO(text))
    except Exception as e:  # pygambit raises ValueError / RuntimeError with a position
        message = str(e).replace("Parse error in game file: ", "")
        m = _POSITION.search(message)
        if m:
            line, col = int(m.group(1)), int(m.group(2))
            raise _fail(path, text, line, col, m.group(3).strip() or "parse error") from None
        located = locate_problem(text, kind, message)
        if located:
            raise _fail(path, text, located[0], located[1], located[2]) from None
        lines = text.splitlines()
        raise _fail(
            path,
            text,
            0,
            0,
            (message or type(e).__name__)
            + f" (pygambit gave no line; the file has {len(lines)} lines)",
        ) from None
    if kind == "efg":
        _refuse_imperfect_recall(game, text, path)
    return game


def _refuse_imperfect_recall(game: gbt.Game, text: str, path: str) -> None:
    from crisislab.gt.flat import from_gambit, recall_problem, recall_violation

    tree = from_gambit(game)
    v = recall_violation(tree)
    if v is None:
        return
    lines = node_lines(text)
    line = lines[v[2]] if v[2] < len(lines) else 0
    col = (
        len(text.splitlines()[line - 1]) - len(text.splitlines()[line - 1].lstrip()) + 1
        if line
        else 0
    )
    raise _fail(
        path,
        text,
        line,
        col,
        f"imperfect recall: {recall_problem(tree)}; the "
        "solvers here need perfect recall (every node of an information set "
        "must follow the same earlier moves of that player)",
    )


@dataclass(frozen=True)
class _NodeLine:
    line: int
    column: int
    kind: str  # p, c or t
    name: str
    player: str = ""
    infoset: str = ""
    infoset_name: str = ""
    actions: tuple[str, ...] = ()
    outcome: str = "0"
    outcome_name: str = ""
    payoffs: tuple[str, ...] = ()


def _unquote(tok: str) -> str:
    return tok[1:-1].replace('\\"', '"') if tok.startswith('"') else tok


def _braced(toks: list[str], i: int) -> tuple[list[str], int]:
    """The tokens inside the braces that open at toks[i], and the index after them."""
    if i >= len(toks) or toks[i] != "{":
        return [], i
    j = toks.index("}", i) if "}" in toks[i:] else len(toks)
    return toks[i + 1 : j], j + 1


def parse_node_lines(text: str) -> list[_NodeLine]:
    """The nodes of an .efg file, one a line, as far as they can be read (for finding
    the line behind an error; pygambit does the real parsing)."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        toks = tokens(line)
        if not toks or toks[0] not in ("p", "c", "t") or len(toks) < 3:
            continue
        col = len(line) - len(line.lstrip()) + 1
        kind, name = toks[0], _unquote(toks[1])
        try:
            if kind == "t":
                body, _ = _braced(toks, 4)
                out.append(
                    _NodeLine(
                        i,
                        col,
                        kind,
                        name,
                        outcome=toks[2],
                        outcome_name=_unquote(toks[3]) if len(toks) > 3 else "",
                        payoffs=tuple(x.rstrip(",") for x in body),
                    )
                )
                continue
            k = 2 if kind == "c" else 3
            player = toks[2] if kind == "p" else "chance"
            body, j = _braced(toks, k + 2)
            acts = tuple(_unquote(x) for x in (body if kind == "p" else body[0::2]))
            outcome = toks[j] if j < len(toks) else "0"
            oname = _unquote(toks[j + 1]) if j + 1 < len(toks) else ""
            pay, _ = _braced(toks, j + 2)
            out.append(
                _NodeLine(
                    i,
                    col,
                    kind,
                    name,
                    player,
                    toks[k],
                    _unquote(toks[k + 1]),
                    acts,
                    outcome,
                    oname,
                    tuple(x.rstrip(",") for x in pay),
                )
            )
        except (IndexError, ValueError):
            continue
    return out


def _bad_label(label: str) -> bool:
    return bool(label) and (
        label != label.strip() or "  " in label or any(not (32 <= ord(ch) < 127) for ch in label)
    )


def locate_problem(text: str, kind: str, message: str) -> tuple[int, int, str] | None:
    """Find the line behind an error pygambit reported without a position: the first
    line that breaks the rule the message names."""
    if kind != "efg":
        return None
    nodes = parse_node_lines(text)
    low = message.lower()
    if "node label" in low:
        seen: dict[str, int] = {}
        for n in nodes:
            if n.name and n.name in seen:
                return (
                    n.line,
                    n.column,
                    (
                        f'node label "{n.name}" is used again (first on '
                        f"line {seen[n.name]}); pygambit needs node labels "
                        'that are unique in the game (or empty: "")'
                    ),
                )
            seen.setdefault(n.name, n.line)
    if "infoset label" in low:
        first: dict[tuple[str, str], tuple[str, int]] = {}
        for n in nodes:
            key = (n.player, n.infoset_name)
            if n.infoset_name and key in first and first[key][0] != n.infoset:
                return (
                    n.line,
                    n.column,
                    (
                        f'information set label "{n.infoset_name}" is '
                        f"used by another information set of the same "
                        f"player (line {first[key][1]}); labels must be "
                        "unique for each player"
                    ),
                )
            first.setdefault(key, (n.infoset, n.line))
    if "outcome label" in low:
        by_label: dict[str, tuple[str, int]] = {}
        for n in nodes:
            if n.outcome == "0" or not n.outcome_name:
                continue
            if n.outcome_name in by_label and by_label[n.outcome_name][0] != n.outcome:
                return (
                    n.line,
                    n.column,
                    (
                        f'outcome label "{n.outcome_name}" is used by '
                        f"another outcome (line {by_label[n.outcome_name][1]})"
                        "; outcome labels must be unique in the game"
                    ),
                )
            by_label.setdefault(n.outcome_name, (n.outcome, n.line))
    if "invalid label" in low:
        for n in nodes:
            for lab in (n.name, n.infoset_name, n.outcome_name, *n.actions):
                if _bad_label(lab):
                    return n.line, n.column, (f'label "{lab}": {message}')
    if "probabilities" in low:
        for n in nodes:
            if n.kind == "c" and n.actions:
                return n.line, n.column, message
    return None


def read_game(path: str | Path, notes: ReadNotes | None = None) -> gbt.Game:
    """Read a game file; every problem is a :class:`GameFileError`; warnings (repairs)
    go to ``notes``."""
    p = Path(path)
    try:
        raw = read_regular(p, MAX_BYTES, "game file")
    except InputError as e:
        raise GameFileError(
            str(p), 0, 0, e.message.removeprefix(f"{p}: ").removeprefix(str(p)).strip() or e.message
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = e.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(
            str(p), raw.decode("utf-8", "replace"), line, col, "not valid UTF-8 text"
        ) from None
    return parse_game(text, str(p), notes)
