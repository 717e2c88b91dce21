"""The expression language: what it computes, and what it refuses."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from crisislab.scenario.expr import (
    ExprError,
    NameInfo,
    Namespace,
    evaluate,
    names_in,
    parse_effect,
    parse_expression,
)
from crisislab.scenario.reach import Abstract, can_hold

NS = Namespace(
    {
        "x": NameInfo("variable", assignable=True),
        "y": NameInfo("variable", assignable=True),
        "flag": NameInfo("variable", assignable=True),
        "q": NameInfo("variable", ("none", "active", "lifted"), assignable=True),
        "p": NameInfo("parameter"),
        "turn": NameInfo("builtin"),
        "day": NameInfo("builtin"),
    },
    dt.date(1962, 10, 14),
)
ENV = {
    "x": np.array([0.0, 1.0, 2.0, 3.0]),
    "y": np.array([4.0, 0.0, 2.0, -1.0]),
    "flag": np.array([True, False, True, False]),
    "q": np.array([0.0, 1.0, 2.0, 1.0]),
    "p": 0.5,
    "turn": 3.0,
    "day": 10.0,
}


def ev(text: str) -> np.ndarray:
    return np.broadcast_to(np.asarray(evaluate(parse_expression(text, NS), ENV)), (4,))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x + y * 2", [8, 1, 6, 1]),
        ("(x + y) * 2", [8, 2, 8, 4]),
        ("x / y", [0, 0, 1, -3]),  # division by zero is 0
        ("-x + 1", [1, 0, -1, -2]),
        ("x < y", [1, 0, 0, 0]),
        ("0 < x <= 2", [0, 1, 1, 0]),
        ("flag and x > 1", [0, 0, 1, 0]),
        ("flag or x == 3", [1, 0, 1, 1]),
        ("not flag", [0, 1, 0, 1]),
        ("q == 'active'", [0, 1, 0, 1]),
        ("q != 'none'", [0, 1, 1, 1]),
        ("x if flag else -1", [0, -1, 2, -1]),
        ("min(x, y, 1)", [0, 0, 1, -1]),
        ("max(x, y)", [4, 1, 2, 3]),
        ("abs(y)", [4, 0, 2, 1]),
        ("clip(x, 1, 2)", [1, 1, 2, 2]),
        ("p * turn", [1.5] * 4),
        ("day >= date('1962-10-24')", [1] * 4),
        ("day >= date('1962-10-25')", [0] * 4),
        ("true and flag", [1, 0, 1, 0]),
        ("flag + flag", [2, 0, 2, 0]),  # booleans count as numbers in arithmetic
    ],
)
def test_evaluation(text: str, expected: list[float]) -> None:
    assert np.allclose(ev(text).astype(float), expected)


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("x.__class__", "attribute access", 1),
        ("open('f')", "calling 'open'", 0),
        ("__import__('os')", "calling '__import__'", 0),
        ("x + _secret", "underscore", 4),
        ("x[0]", "subscripts", 1),
        ("lambda: 1", "lambda", 0),
        ("[a for a in x]", "comprehensions", 0),
        ("x ** 2", "Pow", 0),
        ("x + 'a'", "only allowed as the state of an enum", 4),
        ("q == 'activ'", "not a state of this enum", 5),
        ("x +", "does not parse", None),
        ("xx > 1", "unknown name 'xx'", 0),
        ("min(x)", "two or more", 0),
        ("date(x)", "date() takes one date", 0),
        ("date('1962-13-01')", "is not a date", 5),
        ("x if y", "does not parse", None),
        ("f'{x}'", "f-strings", 0),
        ("(y := 2)", "walrus", 1),
        ("x is None", "comparison Is", 0),
    ],
)
def test_refused(text: str, fragment: str, column: int | None) -> None:
    with pytest.raises(ExprError) as info:
        parse_expression(text, NS)
    assert fragment in info.value.message or fragment in str(info.value.message)
    if column is not None:
        assert info.value.column == column


def test_unknown_name_suggests_a_close_one() -> None:
    with pytest.raises(ExprError) as info:
        parse_expression("flga", NS)
    assert "flag" in info.value.hint


@pytest.mark.parametrize(
    ("text", "target", "op"),
    [("x = 1", "x", "="), ("x += y", "x", "+="), ("x -= 2", "x", "-="), ("q = 'lifted'", "q", "=")],
)
def test_effects(text: str, target: str, op: str) -> None:
    eff = parse_effect(text, NS)
    assert (eff.target, eff.op) == (target, op)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("p = 1", "parameter"),
        ("turn = 1", "builtin"),
        ("x = y = 1", "must be"),
        ("x *= 2", "must be"),
        ("q += 1", "enum"),
        ("q = 'nowhere'", "not a state"),
        ("import os", "must be"),
        ("x = 1; y = 2", "one assignment"),
    ],
)
def test_bad_effects(text: str, fragment: str) -> None:
    with pytest.raises(ExprError, match=fragment):
        parse_effect(text, NS)


def test_names_in() -> None:
    assert names_in(parse_expression("x + min(y, p) if flag else turn", NS)) == {
        "x",
        "y",
        "p",
        "flag",
        "turn",
    }


@pytest.mark.parametrize(
    ("text", "reachable"),
    [
        ("x > 5", False),
        ("x >= 3", True),
        ("q == 'lifted'", False),  # no effect ever produces 'lifted'
        ("q == 'active'", True),
        ("flag and not flag", True),  # the analysis does not relate two reads
        ("false", False),
        ("x > 1 and q == 'lifted'", False),
        ("x > 1 or q == 'lifted'", True),
        ("clip(x, 0, 1) > 1", False),
    ],
)
def test_reachability(text: str, reachable: bool) -> None:
    env = {
        "x": Abstract.interval(0, 3),
        "y": Abstract.interval(-1, 4),
        "flag": Abstract.of({0.0, 1.0}),
        "q": Abstract.of({0.0, 1.0}),
        "p": Abstract.interval(0, 1),
        "turn": Abstract.interval(0, 10),
        "day": Abstract.interval(0, 100),
    }
    assert can_hold(parse_expression(text, NS), env) is reachable
