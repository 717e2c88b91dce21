"""The leader model's fast paths give the old model's numbers, bit for bit.

The features of a situation are computed on plain numbers for a few situations
(``LeaderModel.features_plain``) and, per outcome and danger, only where an option can
move it on arrays (``features_arrays``). Both are compared here, situation by situation,
with the model as it was computed before (every option's state stacked into one
environment and every outcome and hazard evaluated on all of it), kept below as the
reference: the features and the choice probabilities must be the same bits."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.agents import leader as leader_module
from crisislab.agents.doctrines import _after, _progress
from crisislab.agents.leader import (
    FEATURES,
    PLAIN_ROWS,
    Features,
    LeaderAgent,
    LeaderModel,
    probabilities,
)
from crisislab.agents.registry import make_agent
from crisislab.engine.engine import Engine
from crisislab.engine.loop import decide
from crisislab.engine.observation import Observation
from crisislab.runner import complete_agents, start_batch
from crisislab.scenario.expr import Value
from crisislab.scenario.loader import load_scenario
from tests.strategies import seeds

MINI = str(Path(__file__).parent / "data" / "mini.yaml")
SPECS = [
    "historical",
    "leader",
    "leader:preset=hawk",
    "leader:preset=dove",
    "historical:escalation=1",
]


def reference_compute(
    model: LeaderModel, obs: Observation, rows: np.ndarray, legal: np.ndarray
) -> np.ndarray:
    """The features as the model computed them before its fast paths (its code as it
    was): the states after every option stacked into one environment."""
    t = model.table
    n = rows.size
    env = model.env(obs, rows, obs.matrix)
    options = [
        r
        for r in t.rules
        if r.local != t.default
        and legal[:, r.local].any()
        and (model.touches[r.local][0] or model.touches[r.local][1])
    ]
    m = len(options) + 1
    stacked: dict[str, Value] = {}
    afters = [_after(env, r.effects, model.variables, n).env for r in options]
    for name, value in env.items():
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == n:
            stacked[name] = np.concatenate([value] + [a[name] for a in afters])
        else:
            stacked[name] = value
    size = m * n
    pay = {k: v.reshape(m, n) for k, v in model._payoffs(stacked, size).items()}
    sq_all = pay[model.status_quo.id]
    spread = np.maximum(np.ptp(np.stack([v[0] for v in pay.values()]), axis=0), 1e-9)
    loss = {
        o.id: np.maximum(pay[model.status_quo.id][0] - pay[o.id][0], 0.0) / spread
        for o, _ in model.outcomes
    }
    progress = {
        o.id: _progress(clauses, stacked, size).reshape(m, n)
        for o, clauses in model.outcomes
        if clauses and o.id != model.status_quo.id
    }
    value = sum(((progress[k] * (pay[k] - sq_all)) for k in progress), np.zeros((m, n)))
    value = value / spread
    risk = model.expected_loss(
        stacked, size, progress, {k: np.tile(v, m) for k, v in loss.items()}
    ).reshape(m, n)
    carry_on = sq_all[0] - risk[0] * spread
    peaceful = [
        o.id for o, _ in model.outcomes if o.id in progress and o.escalation == 0 and not o.default
    ]
    x = np.zeros((n, t.k, len(FEATURES)))
    for b, rule in enumerate(options, start=1):
        j = rule.local
        x[:, j, 0] = value[b] - value[0]
        if model.concede[j] and peaceful:
            moved = np.stack([progress[k][b] - progress[k][0] for k in peaceful])
            best = np.argmax(moved, axis=0)
            deal = np.stack([pay[k][b] for k in peaceful])[best, np.arange(n)]
            closes = moved.max(axis=0) > 1e-12
            x[:, j, 0] = np.where(closes, (deal - carry_on) / spread, x[:, j, 0])
        x[:, j, 1] = risk[b] - risk[0]
    commitment: Any = 0.0
    if model.commitment is not None:
        commitment = np.nan_to_num(np.asarray(env[model.commitment], dtype=float)) / 10.0
    x[:, :, 2] = model.concede[None, :] * np.broadcast_to(commitment, (n,))[:, None]
    x[:, :, 3] = model.waiting[None, :]
    x[:, :, 4:7] = model.static[None, :, :]
    return x


def reference_features(model: LeaderModel, obs: Observation, rows: np.ndarray) -> Features:
    legal = obs.legal[rows]
    days = float(np.asarray(obs.builtins()["turn_days"]))
    x = reference_compute(model, obs, rows, legal)
    offset = np.broadcast_to(model.waiting * math.log(max(days, 1e-9)), (rows.size, model.table.k))
    return Features(
        x,
        np.array(offset),
        model.nearness(obs, rows),
        legal,
        model.table.default,
        model.shortfall(obs, rows, x[:, :, 0]),
    )


def _leader(agent: Any) -> LeaderAgent | None:
    """The leader model an agent plays by (itself, or the historical agent's fallback)."""
    for a in (agent, getattr(agent, "fallback", None)):
        if isinstance(a, LeaderAgent):
            return a
    return None


def _odds(agent: LeaderAgent, f: Features) -> np.ndarray:
    return probabilities(
        f, agent.beta, agent.record, agent.coef["record_days"], agent.coef["record_terms"]
    )


def _same(a: Features, b: Features) -> None:
    for name in ("x", "offset", "near", "legal"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert (a.short is None) == (b.short is None)
    if a.short is not None and b.short is not None:
        assert a.short.tobytes() == b.short.tobytes()


def _check(ref: str, seed: int, specs: list[str], n: int, turns: int) -> int:
    """Play ``n`` crises unlumped (so rows differ) for up to ``turns`` turns and compare,
    at every turn and seat of a leader, the reference with both fast paths: the array
    path on every running row at once, the plain path row by row. Returns how many
    situations were compared."""
    sc = load_scenario(ref)
    players = [a for a in sc.players if sc.role(a) == "player"]
    agents = complete_agents(
        sc, {a: make_agent(s, sc, a) for a, s in zip(players, specs, strict=False)}
    )
    engine = Engine(sc)
    state = start_batch(engine, n, seed, crisis_ids=np.arange(n), lumped=False)
    compared = 0
    for _ in range(turns):
        if state.done.all():
            break
        for actor, agent in agents.items():
            leader = _leader(agent)
            if leader is None:
                continue
            obs = engine.observe(state, actor)
            rows = np.flatnonzero(obs.active)
            if rows.size == 0:
                continue
            model = leader.model
            expected = reference_features(model, obs, rows)
            arrays = model.features_arrays(obs, rows)
            plain = model.features_plain(obs, rows)
            _same(arrays, expected)
            # an option illegal in a row has features only where the batch computes it
            # for other rows (the probabilities never read them): row by row, the
            # reference computes each situation alone, as the plain path does
            alone = [reference_features(model, obs, rows[r : r + 1]) for r in range(rows.size)]
            _same(
                plain,
                Features(
                    *(
                        np.concatenate([getattr(f, k) for f in alone])
                        for k in ("x", "offset", "near", "legal")
                    ),
                    expected.wait,
                    None
                    if expected.short is None
                    else np.concatenate([f.short for f in alone if f.short is not None]),
                ),
            )
            legal = expected.legal[:, :, None]
            assert np.array_equal(np.where(legal, plain.x, 0), np.where(legal, expected.x, 0))
            odds = _odds(leader, expected)
            assert _odds(leader, arrays).tobytes() == odds.tobytes()
            assert _odds(leader, plain).tobytes() == odds.tobytes()
            for r, row in enumerate(rows[:3]):  # one situation alone, as a game asks
                alone = model.features(obs, np.array([row]))
                assert _odds(leader, alone)[0].tobytes() == odds[r].tobytes()
            compared += rows.size
        engine.step(state, decide(engine, state, agents))
    return compared


lineups = st.lists(st.sampled_from(SPECS), min_size=3, max_size=3)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, specs=lineups)
def test_the_fast_paths_give_the_reference_model_s_bits(seed: int, specs: list[str]) -> None:
    assert _check(MINI, seed, specs, n=5, turns=60) > 0


@settings(max_examples=3, deadline=None)
@given(seed=seeds, specs=lineups)
def test_the_fast_paths_give_the_reference_model_s_bits_on_cuba(
    seed: int, specs: list[str]
) -> None:
    assert _check("cuba-1962", seed, specs, n=3, turns=30) > 0


def test_many_situations_go_to_the_arrays_a_few_to_plain_numbers(monkeypatch) -> None:
    """``features`` picks the path by the number of situations (both tested above)."""
    sc = load_scenario("cuba-1962")
    model = LeaderModel(sc, "usa")
    engine = Engine(sc)
    state = start_batch(
        engine, PLAIN_ROWS + 1, 1, crisis_ids=np.arange(PLAIN_ROWS + 1), lumped=False
    )
    obs = engine.observe(state, "usa")
    used: list[str] = []
    for name in ("features_plain", "features_arrays"):
        real = getattr(model, name)
        monkeypatch.setattr(
            model, name, lambda o, r, real=real, name=name: used.append(name) or real(o, r)
        )
    model.features(obs, np.arange(PLAIN_ROWS))
    model.features(obs, np.arange(PLAIN_ROWS + 1))
    assert used == ["features_plain", "features_arrays"]


@settings(max_examples=40, deadline=None)
@given(data=st.data(), distinct=st.integers(1, 12), n=st.integers(1, 60), width=st.integers(1, 9))
def test_situations_are_the_rows_of_equal_bytes(
    data: st.DataObject, distinct: int, n: int, width: int
) -> None:
    """Rows share a situation exactly when their bytes are equal (NaN is NaN, -0.0 is not
    0.0), whether the hash tells them apart or (every hash the same) the bytes do."""
    values = st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, math.nan, math.inf, 1e300, 3.0])
    base = np.array([[data.draw(values) for _ in range(width)] for _ in range(distinct)])
    rows = np.ascontiguousarray(
        base[data.draw(st.lists(st.integers(0, distinct - 1), min_size=n, max_size=n))]
    )
    keys = [r.tobytes() for r in rows]
    for hashed in (True, False):
        if hashed:
            first, index = leader_module._distinct_rows(rows)
        else:
            real = leader_module._row_hash
            try:
                leader_module._row_hash = lambda w: np.zeros(w.shape[0], dtype=np.uint64)
                first, index = leader_module._distinct_rows(rows)
            finally:
                leader_module._row_hash = real
        assert len(set(keys)) == first.size
        assert [keys[first[index[i]]] for i in range(n)] == keys


finite_values = st.floats(min_value=-50, max_value=50)
feature_values = st.one_of(
    finite_values,
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, -1e300, math.inf, -math.inf, math.nan]),
)


@settings(max_examples=300, deadline=None)
@given(
    k=st.integers(1, 6),
    data=st.data(),
    record=st.sampled_from([0.0, 4.0]),
    short=st.booleans(),
    special=st.booleans(),
)
def test_one_row_s_probabilities_are_the_batch_s(
    k: int, data: st.DataObject, record: float, short: bool, special: bool
) -> None:
    """A row alone has its utilities summed on plain numbers: the same bits as that row
    among others, NaN and infinite features included."""
    n = len(FEATURES)
    values = feature_values if special else finite_values

    def row() -> dict[str, np.ndarray]:
        grid = st.lists(values, min_size=k * n, max_size=k * n)
        near = st.lists(st.one_of(st.floats(0, 30), st.just(math.inf)), min_size=k, max_size=k)
        return {
            "x": np.array(data.draw(grid)).reshape(k, n),
            "offset": np.array(data.draw(st.lists(values, min_size=k, max_size=k))),
            "near": np.array(data.draw(near)),
            "legal": np.array(data.draw(st.lists(st.booleans(), min_size=k, max_size=k))),
            "short": np.array(data.draw(st.lists(st.floats(0, 5), min_size=k, max_size=k))),
        }

    rows = [row(), row()]

    def features(parts: list[dict[str, np.ndarray]]) -> Features:
        def stack(name: str) -> np.ndarray:
            return np.stack([p[name] for p in parts])

        return Features(
            stack("x"),
            stack("offset"),
            stack("near"),
            stack("legal"),
            0,
            stack("short") if short else None,
        )

    beta = np.array(data.draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
    with np.errstate(all="ignore"):
        alone = probabilities(features(rows[:1]), beta, record)
        batch = probabilities(features(rows), beta, record)
    assert alone.shape == (1, k)
    assert alone[0].tobytes() == batch[0].tobytes()
