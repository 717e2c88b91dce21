"""A crisis alone (a batch of one row, stepped on plain numbers) is the same crisis as
inside a batch of many (stepped on numpy arrays), bit for bit, for any seed and line-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import decide, lumpable
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
