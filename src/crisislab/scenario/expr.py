"""The expression language of scenario files: parsed, whitelisted, evaluated on arrays.

Conditions and effects are written in a small subset of Python's expression syntax. The
text is parsed with :func:`ast.parse` (which only parses) and every node is translated
into the few node types below; anything else (attribute access, subscripts, calls other
than a handful of pure functions, names starting with an underscore, lambdas,
comprehensions) is refused with the column where it occurs. Nothing is ever passed to
``eval`` or ``exec``: :func:`evaluate` walks the translated tree with numpy, so one
expression is evaluated for a whole batch of crises at once.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import io
import math
import operator
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

Value = np.ndarray | float | bool
NameKind = Literal["variable", "parameter", "message", "builtin"]

FUNCTIONS = ("min", "max", "abs", "clip", "date")
MAX_DEPTH = 100  # nesting of the translated tree; evaluation recurses that deep
CONSTANT_NAMES = {"true": True, "false": False, "True": True, "False": False}


class ExprError(ValueError):
    """An expression that does not parse or steps outside the language.

    ``column`` is the offset, in characters, of the offending token in the text that was
    given to :func:`parse_expression` or :func:`parse_effect` (the column on a one-line
    expression).
    """

    def __init__(self, message: str, column: int = 0, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.hint = hint


@dataclass(frozen=True)
class NameInfo:
    """What a name in an expression refers to."""

    kind: NameKind
    values: tuple[str, ...] | None = None  # the states of an enum variable
    assignable: bool = False


@dataclass(frozen=True)
class Namespace:
    """Every name an expression may use, and the calendar for ``date('...')``."""

    names: Mapping[str, NameInfo]
    epoch: dt.date


# ---- the translated tree -------------------------------------------------------------


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Unary:
    op: Literal["neg", "not"]
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: Literal["+", "-", "*", "/"]
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare:
    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    values: tuple[Node, ...]


@dataclass(frozen=True)
class IfElse:
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Call:
    func: Literal["min", "max", "abs", "clip"]
    args: tuple[Node, ...]


Node = Const | Name | Unary | Binary | Compare | BoolOp | IfElse | Call


@dataclass(frozen=True)
class Effect:
    """``target op value``: an assignment to a state variable."""

    target: str
    op: Literal["=", "+=", "-="]
    value: Node
    text: str


# ---- parsing -------------------------------------------------------------------------

_BINOPS: dict[type, Literal["+", "-", "*", "/"]] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
}
_CMPOPS: dict[type, str] = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
}
_DESCRIBE: dict[type, str] = {
    ast.Attribute: "attribute access (a.b)",
    ast.Subscript: "subscripts (a[b])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.NamedExpr: "the walrus operator",
    ast.Await: "await",
    ast.Starred: "starred arguments",
}


def _offset(text: str, lineno: int | None, column: int) -> int:
    """The character offset in ``text`` of ``column`` (characters) on line ``lineno``."""
    lines = text.split("\n")
    row = min(max((lineno or 1) - 1, 0), len(lines) - 1)
    return sum(len(line) + 1 for line in lines[:row]) + min(max(column, 0), len(lines[row]))


def _syntax(text: str, mode: Literal["eval", "exec"]) -> ast.AST:
    if "\x00" in text:
        raise ExprError("the expression holds a NUL character", text.index("\x00"), "remove it")
    for i, ch in enumerate(text):
        if not ch.isascii():
            # Python reads a fullwidth or other look-alike letter as its ASCII twin, so
            # the rule would not say what its reader sees
            raise ExprError(
                f"the character '{ch}' (U+{ord(ch):04X}) is not ASCII",
                i,
                "retype it: expressions are written in ASCII letters, digits and operators",
            )
    _no_comment(text)
    try:
        return ast.parse(text, mode=mode)
    except (RecursionError, MemoryError):
        raise ExprError(
            "the expression nests too deeply",
            0,
            f"keep it under {MAX_DEPTH} levels; split it into simpler rules",
        ) from None
    except SyntaxError as err:
        column = _offset(text, err.lineno, (err.offset or 1) - 1)
        raise ExprError(
            f"does not parse: {err.msg}",
            column,
            "write a condition like `quarantine == 'active' and us_defcon <= 3`",
        ) from None


def _no_comment(text: str) -> None:
    """A ``#`` outside quotes would silently drop the rest of the rule's text."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                raise ExprError(
                    "a comment (#) inside an expression hides the rest of it",
                    _offset(text, tok.start[0], tok.start[1]),
                    "remove the comment; explain the rule in its `summary`",
                )
    except (tokenize.TokenError, SyntaxError):
        return  # the parser words the syntax error


def parse_expression(text: str, ns: Namespace) -> Node:
    """Translate a condition or value expression; raise :class:`ExprError` if it is not
    in the language or names something ``ns`` does not hold."""
    lead = len(text) - len(text.lstrip())
    try:
        source = text.strip()
        tree = _syntax(source, "eval")
        assert isinstance(tree, ast.Expression)
        return _Translator(ns, source).node(tree.body, None)
    except ExprError as err:
        err.column += lead
        raise


def parse_effect(text: str, ns: Namespace) -> Effect:
    """Translate ``x = e``, ``x += e`` or ``x -= e`` with ``x`` an assignable variable."""
    lead = len(text) - len(text.lstrip())
    try:
        return _parse_effect(text.strip(), ns, text)
    except ExprError as err:
        err.column += lead
        raise


def _parse_effect(source: str, ns: Namespace, text: str) -> Effect:
    tree = _syntax(source, "exec")
    assert isinstance(tree, ast.Module)
    translator = _Translator(ns, source)
    if len(tree.body) != 1:
        where = translator.pos(tree.body[1]) if len(tree.body) > 1 else 0
        raise ExprError("an effect is one assignment", where, "write one effect per list item")
    stmt = tree.body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, op, value = stmt.targets[0], "=", stmt.value
    elif isinstance(stmt, ast.AugAssign) and type(stmt.op) in (ast.Add, ast.Sub):
        target, op, value = stmt.target, "+=" if isinstance(stmt.op, ast.Add) else "-=", stmt.value
    else:
        raise ExprError(
            "an effect must be `variable = value`, `variable += value` or `variable -= value`",
            translator.pos(stmt),
            "for example `us_defcon -= 1`",
        )
    if not isinstance(target, ast.Name):
        raise ExprError(
            "the left side of an effect must be a variable name",
            translator.pos(target),
            "assign to a variable, for example `tension += 1`",
        )
    info = translator.lookup(target.id, translator.pos(target))
    if not info.assignable:
        raise ExprError(
            f"'{target.id}' is a {info.kind}, which effects cannot change",
            translator.pos(target),
            "assign to a state variable declared under `variables`",
        )
    if info.values is not None and op != "=":
        raise ExprError(
            f"'{target.id}' is an enum; it can only be set with `=`",
            translator.pos(target),
            f"for example `{target.id} = '{info.values[0]}'`",
        )
    node = translator.node(value, info.values)
    return Effect(target.id, op, node, text)  # type: ignore[arg-type]


class _Translator:
    def __init__(self, ns: Namespace, source: str) -> None:
        self.ns = ns
        self.lines = source.split("\n")
        self.source = source
        self.depth = 0

    def pos(self, n: ast.AST, end: bool = False) -> int:
        """Character offset of node ``n`` (its end with ``end``) in the source text;
        ``ast`` counts columns in UTF-8 bytes, line by line."""
        lineno = getattr(n, "end_lineno" if end else "lineno", None) or 1
        col = getattr(n, "end_col_offset" if end else "col_offset", None) or 0
        line = self.lines[min(max(lineno - 1, 0), len(self.lines) - 1)]
        chars = len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
        return _offset(self.source, lineno, chars)

    def lookup(self, name: str, column: int) -> NameInfo:
        if name.startswith("_"):
            raise ExprError(
                f"'{name}': names starting with an underscore are not part of the language",
                column,
                "use the name of a variable, parameter or builtin",
            )
        info = self.ns.names.get(name)
        if info is None:
            close = difflib.get_close_matches(name, list(self.ns.names), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "declare it under `variables`"
            raise ExprError(f"unknown name '{name}'", column, hint)
        return info

    def node(self, n: ast.AST, enum: tuple[str, ...] | None) -> Node:
        if self.depth >= MAX_DEPTH:
            raise ExprError(
                "the expression nests too deeply",
                self.pos(n),
                f"keep it under {MAX_DEPTH} levels; split it into simpler rules",
            )
        self.depth += 1
        try:
            return self._node(n, enum)
        finally:
            self.depth -= 1

    def _node(self, n: ast.AST, enum: tuple[str, ...] | None) -> Node:
        col = self.pos(n)
        if isinstance(n, ast.Constant):
            return self.constant(n, enum)
        if isinstance(n, ast.Name):
            if n.id in CONSTANT_NAMES:
                if enum is not None:
                    raise ExprError(
                        f"{n.id} is not a state of this enum",
                        col,
                        f"use one of its states in quotes: {list(enum)}",
                    )
                return Const(float(CONSTANT_NAMES[n.id]))
            info = self.lookup(n.id, col)
            if enum is not None and info.values != enum:
                raise ExprError(
                    f"'{n.id}' is not an enum with the states {list(enum)}",
                    col,
                    f"compare or set an enum with one of its states in quotes: {list(enum)}",
                )
            return Name(n.id)
        if isinstance(n, ast.UnaryOp):
            if isinstance(n.op, ast.Not):
                return Unary("not", self.node(n.operand, None))
            if isinstance(n.op, ast.USub):
                return Unary("neg", self.node(n.operand, None))
            if isinstance(n.op, ast.UAdd):
                return self.node(n.operand, None)
            raise ExprError("the operator `~` is not part of the language", col, "use `not`")
        if isinstance(n, ast.BinOp):
            op = _BINOPS.get(type(n.op))
            if op is None:
                raise ExprError(
                    f"the operator {type(n.op).__name__} is not part of the language",
                    col,
                    "use + - * / only",
                )
            return Binary(op, self.node(n.left, None), self.node(n.right, None))
        if isinstance(n, ast.BoolOp):
            logic: Literal["and", "or"] = "and" if isinstance(n.op, ast.And) else "or"
            return BoolOp(logic, tuple(self.node(v, None) for v in n.values))
        if isinstance(n, ast.Compare):
            return self.compare(n)
        if isinstance(n, ast.IfExp):
            return IfElse(
                self.node(n.test, None), self.node(n.body, enum), self.node(n.orelse, enum)
            )
        if isinstance(n, ast.Call):
            return self.call(n)
        if isinstance(n, ast.Attribute):
            self.node(n.value, None)  # report what comes first, e.g. a call, before the dot
            col = max(self.pos(n, end=True) - len(n.attr) - 1, col)
            what = f"attribute access (.{n.attr})"
        elif isinstance(n, ast.Subscript):
            col = self.pos(n.value, end=True)
            what = _DESCRIBE[ast.Subscript]
        else:
            what = _DESCRIBE.get(type(n), type(n).__name__)
        raise ExprError(
            f"{what} is not part of the expression language",
            col,
            "use names, numbers, arithmetic, comparisons, and/or/not, `a if c else b`, "
            "and min/max/abs/clip/date",
        )

    def constant(self, n: ast.Constant, enum: tuple[str, ...] | None) -> Const:
        value = n.value
        if enum is not None and not isinstance(value, str):
            raise ExprError(
                f"{value!r} is not a state of this enum",
                self.pos(n),
                f"use one of its states in quotes: {list(enum)}",
            )
        if isinstance(value, bool):
            return Const(float(value))
        if isinstance(value, int | float) and not isinstance(value, complex):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise ExprError("the number is too large", self.pos(n), "write an ordinary number")
            return Const(number)
        if isinstance(value, str):
            if enum is None:
                raise ExprError(
                    f"the string '{value}' is only allowed as the state of an enum variable",
                    self.pos(n),
                    "compare an enum variable with one of its states, e.g. quarantine == 'active'",
                )
            if value not in enum:
                close = difflib.get_close_matches(value, enum, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"one of {list(enum)}"
                raise ExprError(f"'{value}' is not a state of this enum", self.pos(n), hint)
            return Const(float(enum.index(value)))
        raise ExprError(
            f"the constant {value!r} is not part of the language",
            self.pos(n),
            "use numbers, true or false, or the state of an enum variable in quotes",
        )

    def compare(self, n: ast.Compare) -> Compare:
        ops = []
        for op in n.ops:
            sym = _CMPOPS.get(type(op))
            if sym is None:
                raise ExprError(
                    f"the comparison {type(op).__name__} is not part of the language",
                    self.pos(n),
                    "use < <= == != >= >",
                )
            ops.append(sym)
        raw = [n.left, *n.comparators]
        enum: tuple[str, ...] | None = None
        for r in raw:
            if isinstance(r, ast.Name) and r.id in self.ns.names:
                values = self.ns.names[r.id].values
                if values is not None:
                    enum = values
        return Compare(tuple(ops), tuple(self.node(r, enum) for r in raw))

    def call(self, n: ast.Call) -> Node:
        col = self.pos(n)
        if not isinstance(n.func, ast.Name) or n.func.id not in FUNCTIONS:
            if not isinstance(n.func, ast.Name):
                self.node(n.func, None)  # an attribute, a subscript...: say what it is
            name = f"'{n.func.id}'" if isinstance(n.func, ast.Name) else "this expression"
            raise ExprError(
                f"calling {name} is not part of the language",
                col,
                f"the functions are {', '.join(FUNCTIONS)}",
            )
        if n.keywords:
            raise ExprError(
                "functions take no keyword arguments",
                col,
                "pass the arguments in order, for example min(a, b)",
            )
        func = n.func.id
        if func == "date":
            return self.date(n)
        args = tuple(self.node(a, None) for a in n.args)
        wanted = {"abs": (1, 1), "clip": (3, 3), "min": (2, 99), "max": (2, 99)}[func]
        if not wanted[0] <= len(args) <= wanted[1]:
            raise ExprError(
                f"{func}() takes {wanted[0] if wanted[0] == wanted[1] else 'two or more'} "
                f"arguments, not {len(args)}",
                col,
                "for example min(a, b), max(a, b, c), abs(x), clip(x, low, high)",
            )
        return Call(func, args)  # type: ignore[arg-type]

    def date(self, n: ast.Call) -> Const:
        arg = n.args[0] if len(n.args) == 1 else None
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise ExprError(
                "date() takes one date in quotes",
                self.pos(n),
                "for example date('1962-10-24')",
            )
        try:
            when = dt.date.fromisoformat(arg.value)
        except ValueError:
            raise ExprError(
                f"'{arg.value}' is not a date", self.pos(arg), "write it as YYYY-MM-DD"
            ) from None
        return Const(float((when - self.ns.epoch).days))


# ---- evaluation ----------------------------------------------------------------------


def _num(x: Value) -> np.ndarray | float:
    if isinstance(x, np.ndarray):
        return x.astype(np.float64) if x.dtype == np.bool_ else x
    return float(x)


def _truth(x: Value) -> np.ndarray | bool:
    if isinstance(x, np.ndarray):
        return x if x.dtype == np.bool_ else x != 0
    return bool(x)


_CMP_FUNCS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


Compiled = Callable[[Mapping[str, Value]], Value]
_COMPILED: dict[int, tuple[Node, Compiled]] = {}


def evaluate(node: Node, env: Mapping[str, Value]) -> Value:
    """Evaluate a translated expression with numpy; names come from ``env``.

    Each tree is turned once into nested closures (no per-node dispatch on every call:
    the engine evaluates every rule every turn) and kept, with the tree, by identity."""
    entry = _COMPILED.get(id(node))
    if entry is None or entry[0] is not node:
        if len(_COMPILED) > 200_000:  # trees of scenarios long gone
            _COMPILED.clear()
        entry = (node, _compile(node))
        _COMPILED[id(node)] = entry
    return entry[1](env)


def _compile(node: Node) -> Compiled:
    """The closure computing ``node``: the same numpy operations, in the same order, as
    a walk of the tree would make."""
    if isinstance(node, Const):
        value = node.value
        return lambda env: value
    if isinstance(node, Name):
        name = node.name
        return lambda env: env[name]
    if isinstance(node, Unary):
        inner = _compile(node.operand)
        if node.op == "not":
            return lambda env: np.logical_not(_truth(inner(env)))
        return lambda env: -_num(inner(env))
    if isinstance(node, Binary):
        left, right = _compile(node.left), _compile(node.right)
        if node.op == "+":
            return lambda env: _num(left(env)) + _num(right(env))
        if node.op == "-":
            return lambda env: _num(left(env)) - _num(right(env))
        if node.op == "*":
            return lambda env: _num(left(env)) * _num(right(env))
        return lambda env: _divide(_num(left(env)), _num(right(env)))
    if isinstance(node, Compare):
        parts = [_compile(o) for o in node.operands]
        funcs = [_CMP_FUNCS[op] for op in node.ops]
        if len(funcs) == 1:  # ``True and x`` is x: no copy
            f, a, b = funcs[0], parts[0], parts[1]
            return lambda env: f(_num(a(env)), _num(b(env)))

        def compare(env: Mapping[str, Value]) -> Value:
            values = [_num(p(env)) for p in parts]
            result: Value = True
            for f, left, right in zip(funcs, values, values[1:], strict=False):
                result = np.logical_and(result, f(left, right))
            return result

        return compare
    if isinstance(node, BoolOp):
        parts = [_compile(v) for v in node.values]
        combine = np.logical_and if node.op == "and" else np.logical_or
        return lambda env: combine.reduce(np.broadcast_arrays(*[_truth(p(env)) for p in parts]))
    if isinstance(node, IfElse):
        cond, then, other = (
            _compile(node.condition),
            _compile(node.then),
            _compile(node.otherwise),
        )

        def if_else(env: Mapping[str, Value]) -> Value:
            out = np.where(_truth(cond(env)), _num(then(env)), _num(other(env)))
            return out if out.ndim else float(out)

        return if_else
    if isinstance(node, Call):
        args = [_compile(a) for a in node.args]
        if node.func == "abs":
            return lambda env: np.abs(_num(args[0](env)))
        if node.func == "clip":
            x, lo, hi = args
            return lambda env: np.clip(_num(x(env)), _num(lo(env)), _num(hi(env)))
        reduce = np.minimum.reduce if node.func == "min" else np.maximum.reduce
        return lambda env: reduce(np.broadcast_arrays(*[_num(a(env)) for a in args]))
    raise TypeError(f"not an expression node: {node!r}")


_SCALAR: dict[int, tuple[Node, Compiled]] = {}


def evaluate_scalar(node: Node, env: Mapping[str, Value]) -> Value:
    """:func:`evaluate` for one crisis, with plain numbers in ``env`` (floats and
    bools, no arrays): Python's arithmetic and comparisons instead of numpy's calls on
    one-element arrays, which cost far more than the numbers they compute. The result
    is the same number (IEEE doubles both: the same bits, NaN and signed zeros
    included; a property test checks it against :func:`evaluate`), as a float or a
    bool."""
    return scalar_function(node)(env)


def scalar_function(node: Node) -> Compiled:
    """The closure :func:`evaluate_scalar` calls for ``node``, compiled once and kept
    with the tree, by identity (for callers that evaluate one tree many times)."""
    entry = _SCALAR.get(id(node))
    if entry is None or entry[0] is not node:
        if len(_SCALAR) > 200_000:
            _SCALAR.clear()
        entry = (node, _compile_scalar(node))
        _SCALAR[id(node)] = entry
    return entry[1]


def _fnum(x: Value) -> float:
    return float(x)  # type: ignore[arg-type]


def _minimum(a: float, b: float) -> float:
    """numpy's ``minimum`` of two numbers: NaN if either is, else ``b`` unless ``a < b``."""
    return a if a < b or a != a else b


def _maximum(a: float, b: float) -> float:
    return a if a > b or a != a else b


# What a compiled closure is known to return: always a float ("f"), always a bool
# ("b"), or whatever the env holds under a name ("?": a float or a bool). A closure
# converts with float() only what is not already a float: Python's arithmetic and
# comparisons of a float with a bool are those of the float with 0.0 or 1.0, so the
# result is the same number, and a float and a bool compare as numbers do.
Kind = Literal["f", "b", "?"]

# comparisons of a name with a constant, of two names, and of two closures
_CMP_NC: dict[str, Callable[[str, float], Compiled]] = {
    "<": lambda n, c: lambda env: env[n] < c,
    "<=": lambda n, c: lambda env: env[n] <= c,
    ">": lambda n, c: lambda env: env[n] > c,
    ">=": lambda n, c: lambda env: env[n] >= c,
    "==": lambda n, c: lambda env: env[n] == c,
    "!=": lambda n, c: lambda env: env[n] != c,
}
_CMP_NN: dict[str, Callable[[str, str], Compiled]] = {
    "<": lambda n, m: lambda env: env[n] < env[m],
    "<=": lambda n, m: lambda env: env[n] <= env[m],
    ">": lambda n, m: lambda env: env[n] > env[m],
    ">=": lambda n, m: lambda env: env[n] >= env[m],
    "==": lambda n, m: lambda env: env[n] == env[m],
    "!=": lambda n, m: lambda env: env[n] != env[m],
}
_CMP_FF: dict[str, Callable[[Compiled, Compiled], Compiled]] = {
    "<": lambda a, b: lambda env: a(env) < b(env),
    "<=": lambda a, b: lambda env: a(env) <= b(env),
    ">": lambda a, b: lambda env: a(env) > b(env),
    ">=": lambda a, b: lambda env: a(env) >= b(env),
    "==": lambda a, b: lambda env: a(env) == b(env),
    "!=": lambda a, b: lambda env: a(env) != b(env),
}
# arithmetic of a closure and a constant (either side), and of two closures
_BIN_FC: dict[str, Callable[[Compiled, float], Compiled]] = {
    "+": lambda a, c: lambda env: a(env) + c,
    "-": lambda a, c: lambda env: a(env) - c,
    "*": lambda a, c: lambda env: a(env) * c,
}
_BIN_CF: dict[str, Callable[[float, Compiled], Compiled]] = {
    "+": lambda c, b: lambda env: c + b(env),
    "-": lambda c, b: lambda env: c - b(env),
    "*": lambda c, b: lambda env: c * b(env),
}
_BIN_FF: dict[str, Callable[[Compiled, Compiled], Compiled]] = {
    "+": lambda a, b: lambda env: a(env) + b(env),
    "-": lambda a, b: lambda env: a(env) - b(env),
    "*": lambda a, b: lambda env: a(env) * b(env),
}


def _as_float(fn: Compiled, kind: Kind) -> Compiled:
    """``fn``, converting its result to a float unless it always is one."""
    if kind == "f":
        return fn
    return lambda env: float(fn(env))  # type: ignore[arg-type]


def _compile_scalar(node: Node) -> Compiled:
    """The closure computing ``node`` on plain numbers, with numpy's semantics: booleans
    count as 0 and 1, NaN is true, division by zero gives 0, both branches of ``if``
    are numbers."""
    return _scalar(node)[0]


def _scalar(node: Node) -> tuple[Compiled, Kind]:
    """:func:`_compile_scalar`, with what the closure returns. Names and constants
    are read inside their parent's closure where the pattern is common (a name
    compared with a number, an ``and`` of two conditions), one call instead of three."""
    if isinstance(node, Const):
        value = node.value
        return (lambda env: value), "f"
    if isinstance(node, Name):
        return operator.itemgetter(node.name), "?"
    if isinstance(node, Unary):
        inner, kind = _scalar(node.operand)
        if node.op == "not":
            return (lambda env: not inner(env)), "b"
        if kind == "f":
            return (lambda env: -inner(env)), "f"  # type: ignore[operator]
        return (lambda env: -float(inner(env))), "f"  # type: ignore[arg-type]
    if isinstance(node, Binary):
        return _binary(node), "f"
    if isinstance(node, Compare):
        return _compare(node), "b"
    if isinstance(node, BoolOp):
        return _boolop(node), "b"
    if isinstance(node, IfElse):
        cond = _scalar(node.condition)[0]
        then = _as_float(*_scalar(node.then))
        other = _as_float(*_scalar(node.otherwise))
        return (lambda env: then(env) if cond(env) else other(env)), "f"
    if isinstance(node, Call):
        return _call(node), "f"
    raise TypeError(f"not an expression node: {node!r}")


def _binary(node: Binary) -> Compiled:
    (left, lk), (right, rk) = _scalar(node.left), _scalar(node.right)
    if node.op == "/":
        left, right = _as_float(left, lk), _as_float(right, rk)

        def divide(env: Mapping[str, Value]) -> Value:
            b = right(env)
            return left(env) / b if b != 0 else 0.0  # type: ignore[operator]

        return divide
    # one float is enough: the other operand, a float or a bool, meets it as a number
    if isinstance(node.right, Const):
        return _BIN_FC[node.op](_as_float(left, lk), node.right.value)
    if isinstance(node.left, Const):
        return _BIN_CF[node.op](node.left.value, _as_float(right, rk))
    if lk != "f" and rk != "f":
        left = _as_float(left, lk)
    return _BIN_FF[node.op](left, right)


def _compare(node: Compare) -> Compiled:
    if len(node.ops) == 1:
        a, b = node.operands
        op = node.ops[0]
        if isinstance(a, Name) and isinstance(b, Const):
            return _CMP_NC[op](a.name, b.value)
        if isinstance(a, Name) and isinstance(b, Name):
            return _CMP_NN[op](a.name, b.name)
        return _CMP_FF[op](_scalar(a)[0], _scalar(b)[0])
    parts = [_as_float(*_scalar(o)) for o in node.operands]
    ops = [_SCALAR_CMP[op] for op in node.ops]

    def compare(env: Mapping[str, Value]) -> Value:
        values = [p(env) for p in parts]
        return all(f(x, y) for f, x, y in zip(ops, values, values[1:], strict=False))  # type: ignore[arg-type]

    return compare


def _boolop(node: BoolOp) -> Compiled:
    # Python's ``and``/``or`` read each part's truth as numpy does (NaN is true); the
    # parts have no effects, so stopping at the first that decides is the same
    parts = [_scalar(v)[0] for v in node.values]
    if len(parts) == 2:
        a, b = parts
        if node.op == "and":
            return lambda env: bool(a(env) and b(env))
        return lambda env: bool(a(env) or b(env))
    if len(parts) == 3:
        a, b, c = parts
        if node.op == "and":
            return lambda env: bool(a(env) and b(env) and c(env))
        return lambda env: bool(a(env) or b(env) or c(env))
    if node.op == "and":

        def every(env: Mapping[str, Value]) -> Value:
            for p in parts:  # noqa: SIM110 (a loop costs less than all() of a generator)
                if not p(env):
                    return False
            return True

        return every

    def some(env: Mapping[str, Value]) -> Value:
        for p in parts:  # noqa: SIM110 (a loop costs less than any() of a generator)
            if p(env):
                return True
        return False

    return some


def _call(node: Call) -> Compiled:
    args = [_as_float(*_scalar(a)) for a in node.args]
    if node.func == "abs":
        x = args[0]
        return lambda env: abs(x(env))  # type: ignore[arg-type, return-value]
    if node.func == "clip":
        x, lo, hi = args
        # rare: numpy's own clip, for its handling of NaN and signed zeros
        return lambda env: float(np.clip(np.array([x(env)]), lo(env), hi(env))[0])  # type: ignore[arg-type]
    if len(args) == 2:
        a, b = args
        if node.func == "min":

            def minimum(env: Mapping[str, Value]) -> Value:
                x, y = a(env), b(env)
                return x if x < y or x != x else y  # type: ignore[operator]

            return minimum

        def maximum(env: Mapping[str, Value]) -> Value:
            x, y = a(env), b(env)
            return x if x > y or x != x else y  # type: ignore[operator]

        return maximum
    pick = _minimum if node.func == "min" else _maximum

    def reduce(env: Mapping[str, Value]) -> Value:
        out = args[0](env)
        for a in args[1:]:
            out = pick(out, a(env))  # type: ignore[arg-type]
        return out

    return reduce


_SCALAR_CMP: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def _divide(a: np.ndarray | float, b: np.ndarray | float) -> Value:
    # division by zero is defined as 0 so that no rule can produce inf or nan
    b_arr = np.asarray(b, dtype=np.float64)
    out = np.divide(a, b_arr, out=np.zeros(np.broadcast(a, b_arr).shape), where=b_arr != 0)
    return out if out.ndim else float(out)


def names_in(node: Node) -> set[str]:
    """Every name an expression reads."""
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Const):
        return set()
    if isinstance(node, Unary):
        return names_in(node.operand)
    if isinstance(node, Binary):
        return names_in(node.left) | names_in(node.right)
    if isinstance(node, IfElse):
        return names_in(node.condition) | names_in(node.then) | names_in(node.otherwise)
    children = (
        node.operands
        if isinstance(node, Compare)
        else (node.values if isinstance(node, BoolOp) else node.args)
    )
    out: set[str] = set()
    for child in children:
        out |= names_in(child)
    return out
