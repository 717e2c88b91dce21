"""The one-crisis evaluator (plain numbers) gives what the batch evaluator (numpy arrays)
gives, bit for bit, for any expression and any values: NaN, infinities and signed zeros
included (but for the sign of a zero out of clip, see below)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.engine.engine import assigned, assigned_scalar, bound, bound_scalar
from crisislab.scenario.expr import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Const,
    Effect,
    IfElse,
    Name,
    Node,
    Unary,
    evaluate,
    evaluate_scalar,
    scalar_function,
)
from crisislab.scenario.loader import load_scenario

ROWS = 4
NAMES = ("x", "y", "z", "flag")
special = st.sampled_from(
    [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, 1e300, -1e300, float("inf"), float("-inf"), float("nan")]
)
numbers = st.one_of(
    special, st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5).map(float)
)
constants = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, 3.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _tree(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    return st.one_of(
        st.builds(Unary, st.sampled_from(["neg", "not"]), children),
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/"]), children, children),
        st.lists(st.tuples(ops, children), min_size=1, max_size=3).flatmap(
            lambda pairs: children.map(
                lambda first: Compare(tuple(op for op, _ in pairs), (first, *(c for _, c in pairs)))
            )
        ),
        st.builds(
            BoolOp,
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=3).map(tuple),
        ),
        st.builds(IfElse, children, children, children),
        st.builds(Call, st.just("abs"), st.tuples(children)),
        st.builds(Call, st.just("clip"), st.tuples(children, children, children)),
        st.builds(
            Call,
            st.sampled_from(["min", "max"]),
            st.lists(children, min_size=2, max_size=4).map(tuple),
        ),
    )


leaves = st.one_of(st.builds(Const, constants), st.sampled_from(NAMES).map(Name))
trees = st.recursive(leaves, _tree, max_leaves=12)


def _bits(x: object) -> bytes:
    """A number's bits, every NaN alike: a NaN's sign and payload mean nothing (numpy's
    ``minimum`` may hand back a NaN of the other sign than Python's ``min`` does), and no
    rule can tell two NaNs apart."""
    v = float(x)  # type: ignore[arg-type]
    return b"nan" if v != v else np.float64(v).tobytes()


@settings(max_examples=500, deadline=None)
@given(
    node=trees,
    rows=st.lists(
        st.tuples(numbers, numbers, numbers, st.booleans()), min_size=ROWS, max_size=ROWS
    ),
)
def test_scalar_evaluation_is_the_batch_evaluation(
    node: Node, rows: list[tuple[float, float, float, bool]]
) -> None:
    env = {
        name: np.array([r[i] for r in rows], dtype=np.bool_ if name == "flag" else None)
        for i, name in enumerate(NAMES)
    }
    with np.errstate(all="ignore"):
        batch = np.broadcast_to(np.asarray(evaluate(node, env)), (ROWS,))
    # numpy's clip gives the sign of a zero that ties a bound differently for bounds
    # that are arrays and bounds that are numbers (two loops), so with clip only the
    # value is compared: -0.0 and 0.0 are equal numbers, and no rule can tell them apart
    exact = "clip" not in repr(node)
    for i, r in enumerate(rows):
        one = evaluate_scalar(node, dict(zip(NAMES, r, strict=True)))
        assert not isinstance(one, np.ndarray)
        if exact:
            assert _bits(one) == _bits(batch[i]), (node, r)
        else:
            a, b = float(one), float(batch[i])  # type: ignore[arg-type]
            assert a == b or (a != a and b != b), (node, r)


@settings(max_examples=600, deadline=None)
@given(
    value=numbers,
    current=numbers,
    op=st.sampled_from(["=", "+=", "-="]),
    var=st.sampled_from(load_scenario("cuba-1962").variables),
)
def test_an_effect_on_one_crisis_is_the_batch_effect(
    value: float, current: float, op: str, var: object
) -> None:
    eff = Effect(var.id, op, Name("v"), f"{var.id} {op} v")  # type: ignore[attr-defined, arg-type]
    env = {"v": np.array([value]), var.id: np.array([current])}  # type: ignore[attr-defined]
    with np.errstate(all="ignore"):
        batch = bound(var, assigned(eff, env))  # type: ignore[arg-type]
    one = bound_scalar(var, assigned_scalar(eff, {"v": value, var.id: current}))  # type: ignore[arg-type, attr-defined]
    assert isinstance(one, float)
    assert _bits(one) == _bits(batch[0])


mixed = st.one_of(numbers, st.booleans())


def _kind(node: Node) -> type | None:
    """What the one-crisis evaluator returns for ``node``: a bool for a condition, a
    float for a number, the env's own value for a bare name."""
    if isinstance(node, Compare | BoolOp) or (isinstance(node, Unary) and node.op == "not"):
        return bool
    return None if isinstance(node, Name) else float


@settings(max_examples=1000, deadline=None)
@given(node=trees, values=st.tuples(mixed, mixed, mixed, mixed))
def test_the_compiled_closures_read_bools_and_floats_anywhere(
    node: Node, values: tuple[float | bool, ...]
) -> None:
    """Any name may hold a bool or a float (a flag, a parameter, the clock's ``final``):
    the closures, which convert to float only what is not one already and read names
    inside their parent's closure, give what numpy gives on the same numbers, as a
    bool for a condition and a float for a number."""
    scalars = dict(zip(NAMES, values, strict=True))
    arrays = {k: np.array([v]) for k, v in scalars.items()}
    with np.errstate(all="ignore"):
        batch = np.broadcast_to(np.asarray(evaluate(node, arrays)), (1,))
    one = evaluate_scalar(node, scalars)
    kind = _kind(node)
    if kind is None:
        assert one is scalars[node.name]  # type: ignore[union-attr]
    else:
        assert type(one) is kind, (node, scalars)
    if "clip" not in repr(node):
        assert _bits(one) == _bits(batch[0]), (node, scalars)
    else:
        a, b = float(one), float(batch[0])  # type: ignore[arg-type]
        assert a == b or (a != a and b != b), (node, scalars)
    assert scalar_function(node) is scalar_function(node)  # compiled once, then kept
