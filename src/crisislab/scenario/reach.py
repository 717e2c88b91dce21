"""A static look at whether a condition can ever hold.

An abstract interpretation over the declared bounds: each name is a finite set of values
(booleans, enum states actually produced by some effect) or an interval (numbers), and a
condition that is false for every possible value makes its action unreachable. It errs
on the side of "maybe": a condition it cannot decide is treated as reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from crisislab.scenario.expr import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    IfElse,
    Name,
    Node,
    Unary,
)

INF = float("inf")


@dataclass(frozen=True)
class Abstract:
    """Possible values: a finite set when known, else the interval [low, high]."""

    low: float
    high: float
    values: frozenset[float] | None = None

    @classmethod
    def of(cls, values: set[float] | frozenset[float]) -> Abstract:
        return cls(min(values), max(values), frozenset(values))

    @classmethod
    def interval(cls, low: float, high: float) -> Abstract:
        return cls(low, high, None)

    def maybe(self, truth: bool) -> bool:
        if self.values is not None:
            return any((v != 0) == truth for v in self.values)
        if truth:
            return not (self.low == 0 == self.high)
        return self.low <= 0 <= self.high


BOOL = Abstract.of({0.0, 1.0})
TRUE = Abstract.of({1.0})
FALSE = Abstract.of({0.0})


def _truth(possible_true: bool, possible_false: bool) -> Abstract:
    if possible_true and possible_false:
        return BOOL
    return TRUE if possible_true else FALSE


def _compare(op: str, a: Abstract, b: Abstract) -> Abstract:
    if a.values is not None and b.values is not None and len(a.values) * len(b.values) < 4096:
        results = {_apply(op, x, y) for x in a.values for y in b.values}
        return _truth(True in results, False in results)
    if op in ("==", "!="):
        disjoint = a.high < b.low or b.high < a.low
        same_point = a.low == a.high == b.low == b.high
        eq = _truth(not disjoint, not same_point)
        return eq if op == "==" else _truth(eq.maybe(False), eq.maybe(True))
    if op in ("<", "<="):
        strict = op == "<"
        can_true = a.low < b.high or (not strict and a.low <= b.high)
        can_false = a.high >= b.low if strict else a.high > b.low
        return _truth(can_true, can_false)
    flipped = {">": "<", ">=": "<="}[op]
    return _compare(flipped, b, a)


def _apply(op: str, x: float, y: float) -> bool:
    return {
        "<": x < y,
        "<=": x <= y,
        ">": x > y,
        ">=": x >= y,
        "==": x == y,
        "!=": x != y,
    }[op]


def _arith(op: str, a: Abstract, b: Abstract) -> Abstract:
    if op == "+":
        return Abstract.interval(a.low + b.low, a.high + b.high)
    if op == "-":
        return Abstract.interval(a.low - b.high, a.high - b.low)
    if op == "*":
        products = [
            x * y
            for x in (a.low, a.high)
            for y in (b.low, b.high)
            if not ((x == 0 and abs(y) == INF) or (y == 0 and abs(x) == INF))
        ]
        return Abstract.interval(min(products, default=-INF), max(products, default=INF))
    if b.low > 0 or b.high < 0:
        quotients = [x / y for x in (a.low, a.high) for y in (b.low, b.high) if abs(y) != INF]
        values = [*quotients, 0.0] if any(abs(y) == INF for y in (b.low, b.high)) else quotients
        return Abstract.interval(min(values, default=-INF), max(values, default=INF))
    return Abstract.interval(-INF, INF)


def possible(node: Node, env: Mapping[str, Abstract]) -> Abstract:
    """The values ``node`` can take when each name ranges over ``env``."""
    if isinstance(node, Const):
        return Abstract.of({node.value})
    if isinstance(node, Name):
        return env.get(node.name, Abstract.interval(-INF, INF))
    if isinstance(node, Unary):
        inner = possible(node.operand, env)
        if node.op == "not":
            return _truth(inner.maybe(False), inner.maybe(True))
        if inner.values is not None:
            return Abstract.of({-v for v in inner.values})
        return Abstract.interval(-inner.high, -inner.low)
    if isinstance(node, Binary):
        return _arith(node.op, possible(node.left, env), possible(node.right, env))
    if isinstance(node, Compare):
        parts = [possible(o, env) for o in node.operands]
        results = [_compare(op, a, b) for op, a, b in zip(node.ops, parts, parts[1:], strict=False)]
        return _truth(all(r.maybe(True) for r in results), any(r.maybe(False) for r in results))
    if isinstance(node, BoolOp):
        parts = [possible(v, env) for v in node.values]
        if node.op == "and":
            return _truth(all(p.maybe(True) for p in parts), any(p.maybe(False) for p in parts))
        return _truth(any(p.maybe(True) for p in parts), all(p.maybe(False) for p in parts))
    if isinstance(node, IfElse):
        cond = possible(node.condition, env)
        branches = []
        if cond.maybe(True):
            branches.append(possible(node.then, env))
        if cond.maybe(False):
            branches.append(possible(node.otherwise, env))
        return _union(branches)
    if isinstance(node, Call):
        args = [possible(a, env) for a in node.args]
        if node.func == "abs":
            a = args[0]
            low = 0.0 if a.low <= 0 <= a.high else min(abs(a.low), abs(a.high))
            return Abstract.interval(low, max(abs(a.low), abs(a.high)))
        if node.func == "clip":
            a, lo, hi = args
            return Abstract.interval(
                max(min(a.low, hi.high), lo.low), min(max(a.high, lo.low), hi.high)
            )
        if node.func == "min":
            return Abstract.interval(min(a.low for a in args), min(a.high for a in args))
        return Abstract.interval(max(a.low for a in args), max(a.high for a in args))
    raise TypeError(node)


def _union(parts: list[Abstract]) -> Abstract:
    if all(p.values is not None for p in parts):
        out: set[float] = set()
        for p in parts:
            assert p.values is not None
            out |= p.values
        return Abstract.of(out)
    return Abstract.interval(min(p.low for p in parts), max(p.high for p in parts))


def can_hold(node: Node, env: Mapping[str, Abstract]) -> bool:
    """False only when the condition is false for every value the names can take."""
    return possible(node, env).maybe(True)
