"""A crisis alone (a batch of one row, stepped on plain numbers) is the same crisis as
inside a batch of many (stepped on numpy arrays), bit for bit, for any seed and line-up."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine, pick_one, pick_option, probability_scalar
from crisislab.engine.loop import decide, lumpable
from crisislab.engine.streams import CrisisStreams, below
from crisislab.runner import complete_agents, run_batch, start_batch
from crisislab.scenario.loader import load_scenario
from tests.strategies import seeds

MINI = str(Path(__file__).parent / "data" / "mini.yaml")
BATCH = 6
FIELDS = (
    "values",
    "done",
    "outcome",
    "end_turn",
    "peak",
    "fired",
    "sent_turn",
    "payoffs",
    "opened",
    "taken",
)
# per seat: deterministic doctrines (lumped), the random agent (not lumped) and the
# historical agent with the fitted leader off the record (stochastic, lumped)
SPECS = [
    "historical",
    "random",
    "hawk",
    "dove",
    "rational",
    "organizational",
    "political",
    "leader",
]


def _agents(ref: str, specs: list[str]) -> dict:
    sc = load_scenario(ref)
    players = [a for a in sc.players if sc.role(a) == "player"]
    return complete_agents(
        sc, {a: make_agent(s, sc, a) for a, s in zip(players, specs, strict=False)}
    )


def _play(
    ref: str, agents: dict, n: int, seed: int, ids: np.ndarray, lumped: bool, trace: bool = False
) -> dict[str, np.ndarray]:
    sc = load_scenario(ref)
    engine = Engine(sc)
    state = start_batch(engine, n, seed, crisis_ids=ids, lumped=lumped)
    while not state.done.all():
        engine.step(state, decide(engine, state, agents), trace=trace)
    if lumped:
        return {f: state.crisis_field(f) for f in ("outcome", "end_turn", "peak", "payoffs")}
    return {f: getattr(state, f).copy() for f in FIELDS}


def _same(alone: dict[str, np.ndarray], batch: dict[str, np.ndarray], i: int) -> None:
    for name, value in alone.items():
        assert value[..., 0].tobytes() == batch[name][..., i].tobytes(), name


def _check(ref: str, seed: int, which: int, specs: list[str], trace: bool) -> None:
    agents = _agents(ref, specs)
    # the batch: unlumped, so every step is on arrays of BATCH rows
    batch = _play(ref, agents, BATCH, seed, np.arange(BATCH), lumped=False)
    ids = np.array([which])
    alone = _play(ref, agents, 1, seed, ids, lumped=False, trace=trace)
    _same(alone, batch, which)
    if lumpable(agents):  # and as run_batch runs it: one lumped row
        one = run_batch(load_scenario(ref), agents, 1, seed=seed, crisis_ids=ids)
        assert int(one.outcome[0]) == int(batch["outcome"][which])
        assert one.end_turn[0] == batch["end_turn"][which]
        assert one.payoffs[:, 0].tobytes() == batch["payoffs"][:, which].tobytes()
        assert one.peak_escalation[0].tobytes() == batch["peak"][which].tobytes()


lineups = st.lists(st.sampled_from(SPECS), min_size=3, max_size=3)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, which=st.integers(0, BATCH - 1), specs=lineups, trace=st.booleans())
def test_a_crisis_alone_is_the_crisis_in_a_batch(
    seed: int, which: int, specs: list[str], trace: bool
) -> None:
    _check(MINI, seed, which, specs, trace)


@settings(max_examples=4, deadline=None)
@given(seed=seeds, which=st.integers(0, BATCH - 1), specs=lineups)
def test_a_cuba_crisis_alone_is_the_crisis_in_a_batch(
    seed: int, which: int, specs: list[str]
) -> None:
    _check("cuba-1962", seed, which, specs, False)


# ---- the pieces a crisis alone computes on plain numbers ----------------------------

probability_rows = st.lists(
    st.one_of(
        st.sampled_from([0.0, -0.0, 1.0, 0.5, 0.25, 1e-300]),
        st.floats(min_value=0.0, max_value=1.0),
    ),
    min_size=1,
    max_size=9,
)


@settings(max_examples=400, deadline=None)
@given(row=probability_rows, u=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_one_row_s_pick_is_numpy_s(row: list[float], u: float) -> None:
    expected = int(pick_option(np.array([row]), np.array([u]))[0])
    assert pick_one(row, u) == expected


@settings(max_examples=300, deadline=None)
@given(
    key=st.integers(0, 2**64 - 1),
    turn=st.integers(0, 2**32 - 1),
    stream=st.integers(0, 2**24 - 1),
)
def test_one_crisis_s_bits_are_the_batch_s(key: int, turn: int, stream: int) -> None:
    batch = CrisisStreams.bits_of(np.array([key], dtype=np.uint64), turn, stream)
    assert CrisisStreams.bits_int(key, turn, stream) == int(batch[0])


@settings(max_examples=400, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, 1.0, 1e-17, 1 - 1e-16, math.inf, -math.inf, math.nan]),
    ),
    days=st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0, 1e300]),
    per_day=st.booleans(),
    bits=st.integers(0, 2**64 - 1),
)
def test_a_chance_event_alone_fires_as_in_a_batch(
    value: float, days: float, per_day: bool, bits: int
) -> None:
    sc = load_scenario("cuba-1962")
    event = next(e for e in sc.events if e.kind == "chance")
    event = dataclasses.replace(event, per_day=per_day)
    with np.errstate(all="ignore"):
        batch = np.broadcast_to(event.probability(np.asarray(value), days), (1,))
    one = probability_scalar(event, value, days)
    assert one == float(batch[0])  # the same number (a zero's sign aside)
    fires = below(np.array([bits], dtype=np.uint64), batch)[0]
    assert bool(fires) == (one > 0 and (bits >> 11) < math.ceil(one * (1 << 53)))
