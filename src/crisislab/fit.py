"""Fitting the leaders' choice model to the record: maximum likelihood of the documented
choices.

Each turn of the replayed historical track where a player had more than one option is a
decision: the documented action, or waiting where the record is silent, chosen among the
options available then. The model's log-likelihood is the sum over decisions of the log
of the probability it gives the documented choice; it is concave in the coefficients (a
conditional logit), so the maximum is found reliably, inside the ranges the scenario
declares for the ``leader_*`` parameters. Intervals come from the observed information
(the inverse Hessian); a coefficient at a bound of its range is reported as such, since
there the record only says it lies beyond it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crisislab.agents.historical import HistoricalAgent
from crisislab.agents.leader import (
    DEFAULTS,
    FEATURES,
    PER_ACTOR,
    Features,
    LeaderModel,
    parameter_name,
    probabilities,
    signs,
)
from crisislab.engine.engine import Engine
from crisislab.engine.loop import turns
from crisislab.engine.observation import Observation
from crisislab.engine.version import engine_version
from crisislab.scenario.model import Scenario

TREMBLE = 0.01  # how the deterministic doctrines are scored against the record


@dataclass(frozen=True)
class Decision:
    """One documented choice: who, when, what, and the model's inputs then."""

    actor: str
    turn: int
    date: str
    choice: int
    choice_id: str
    features: Features
    documented: bool  # an entry of the record, not a silent turn


@dataclass(frozen=True)
class FitResult:
    """The fitted coefficients with their provenance."""

    scenario: str
    version: str
    content_hash: str
    method: str
    date: str
    parameters: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]
    at_bound: dict[str, str]
    log_likelihood: float
    baseline: dict[str, Any]
    decisions: list[dict[str, Any]]
    leave_one_out: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "version": self.version,
            "engine_version": engine_version(),
            "content_hash": self.content_hash,
            "method": self.method,
            "date": self.date,
            "log_likelihood": self.log_likelihood,
            "baseline": self.baseline,
            "parameters": {
                k: {
                    "value": v,
                    "low": self.low[k],
                    "high": self.high[k],
                    "at_bound": self.at_bound.get(k),
                }
                for k, v in self.parameters.items()
            },
            "decisions": self.decisions,
            "leave_one_out": self.leave_one_out,
        }


def record_decisions(scenario: Scenario) -> list[Decision]:
    """The decisions of every player with options along the replayed record."""
    engine = Engine(scenario, chance="history")
    state = engine.start(1, seed=0)
    agents = {a: HistoricalAgent(scenario, a) for a in engine.players}
    models = {a: LeaderModel(scenario, a) for a in engine.players if scenario.role(a) == "player"}
    documented = {(s.turn, s.actor) for s in scenario.track if s.action is not None}
    out: list[Decision] = []
    row = np.array([0])

    def seen(a: str, obs: Observation, choice: np.ndarray) -> None:
        if a in models and obs.legal[0].sum() > 1:
            pick = int(choice[0])
            f = models[a].features(obs, row)
            out.append(
                Decision(
                    a,
                    state.turn,
                    obs.label,
                    pick,
                    obs.actions[pick],
                    f,
                    (state.turn, a) in documented,
                )
            )

    for _ in turns(engine, state, agents, seen=seen):
        pass
    return out


class _Problem:
    """The negative log-likelihood in the free coefficients, with its gradient and
    Hessian (a conditional logit's are exact and cheap)."""

    def __init__(self, scenario: Scenario, decisions: list[Decision]) -> None:
        self.actors = sorted({d.actor for d in decisions})
        self.names: list[str] = []
        for f in FEATURES:
            if f in PER_ACTOR:
                self.names += [parameter_name(f, a) for a in self.actors]
            else:
                self.names.append(parameter_name(f, ""))
        self.index = {n: i for i, n in enumerate(self.names)}
        spec = {p.id: p for p in scenario.spec.parameters}
        self.bounds = [tuple(spec[n].range) if n in spec else (-10.0, 10.0) for n in self.names]
        self.start = np.array(
            [scenario.parameters.get(n, DEFAULTS[_feature(n)]) for n in self.names]
        )
        self.decisions = decisions
        # per decision: design matrix over options (options, free coefficients)
        self.rows = []
        for d in decisions:
            x = d.features.x[0] * signs()[None, :]
            design = np.zeros((x.shape[0], len(self.names)))
            for j, f in enumerate(FEATURES):
                design[:, self.index[parameter_name(f, d.actor)]] = x[:, j]
            self.rows.append((design, d.features.offset[0], d.features.legal[0], d.choice))

    def value(self, beta: np.ndarray, skip: int = -1) -> tuple[float, np.ndarray, np.ndarray]:
        ll, grad = 0.0, np.zeros(beta.size)
        hess = np.zeros((beta.size, beta.size))
        for i, (design, offset, legal, choice) in enumerate(self.rows):
            if i == skip:
                continue
            u = np.where(legal, design @ beta + offset, -np.inf)
            top = u.max()
            p = np.exp(u - top)
            p /= p.sum()
            ll += float(u[choice] - top - np.log(np.exp(u - top).sum()))
            mean = p @ design
            grad += design[choice] - mean
            centred = design - mean
            hess -= (centred * p[:, None]).T @ centred
        return ll, grad, hess

    def solve(self, skip: int = -1, only: tuple[str, ...] = ()) -> tuple[np.ndarray, float]:
        """The maximum; with ``only``, of the model with just those features (the
        others held at zero), e.g. ``("act",)`` for the base rate."""
        from crisislab.extras import require

        minimize = require("scipy.optimize", "fit").minimize

        def negative(b: np.ndarray) -> tuple[float, np.ndarray]:
            ll, g, _ = self.value(b, skip)
            return -ll, -g

        bounds = self.bounds
        if only:
            bounds = [
                b if _feature(n) in only else (0.0, 0.0)
                for n, b in zip(self.names, self.bounds, strict=True)
            ]
        res = minimize(
            negative,
            np.clip(self.start, *np.array(bounds).T),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
        )
        return res.x, -float(res.fun)

    def chance(self, beta: np.ndarray, i: int) -> float:
        """The probability coefficients ``beta`` give decision ``i``'s choice."""
        design, offset, legal, choice = self.rows[i]
        u = np.where(legal, design @ beta + offset, -np.inf)
        p = np.exp(u - u.max())
        return float(p[choice] / p.sum())


def _feature(name: str) -> str:
    return name.rsplit("_", 1)[-1]


def doctrine_log_likelihood(
    scenario: Scenario, decisions: list[Decision], agents: dict[str, Any]
) -> tuple[float, int]:
    """How well deterministic agents explain the record: a 1% tremble keeps the
    log-likelihood finite; also the number of decisions they get right."""
    # replay once more, asking the given agents what they would have chosen
    engine = Engine(scenario, chance="history")
    state = engine.start(1, seed=0)
    record = {a: HistoricalAgent(scenario, a) for a in engine.players}
    wanted = {(d.turn, d.actor): d for d in decisions}
    score = {"ll": 0.0, "right": 0}

    def seen(a: str, obs: Observation, _: np.ndarray) -> None:
        """Ask the given agent about the observation the record's agent acted on."""
        d = wanted.get((state.turn, a))
        if d is not None and a in agents:
            guess = int(np.asarray(agents[a].act(obs))[0])
            k = int(obs.legal[0].sum())
            hit = guess == d.choice
            score["right"] += hit
            score["ll"] += float(np.log(1 - TREMBLE if hit else TREMBLE / max(k - 1, 1)))

    for _ in turns(engine, state, record, seen=seen):
        pass
    return float(score["ll"]), int(score["right"])


def fit(scenario: Scenario, leave_one_out: bool = True) -> FitResult:
    """Maximum-likelihood coefficients of the leaders' model on the record."""
    decisions = record_decisions(scenario)
    problem = _Problem(scenario, decisions)
    beta, ll = problem.solve()
    _, _, hess = problem.value(beta)
    low, high, at_bound = {}, {}, {}
    try:
        cov = np.linalg.pinv(-hess)
        se = np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        se = np.full(beta.size, np.inf)
    params = {}
    for i, name in enumerate(problem.names):
        lo_b, hi_b = problem.bounds[i]
        params[name] = float(beta[i])
        low[name] = float(max(lo_b, beta[i] - 1.96 * se[i]))
        high[name] = float(min(hi_b, beta[i] + 1.96 * se[i]))
        if -hess[i, i] < 1e-9:
            at_bound[name] = "not identified"  # the record never offers this choice
            low[name], high[name] = float(lo_b), float(hi_b)
        elif beta[i] <= lo_b + 1e-6:
            at_bound[name] = "lower"
        elif beta[i] >= hi_b - 1e-6:
            at_bound[name] = "upper"
    # The base rate: each leader acts as often as the record has it act, per day, but
    # picks blindly among its options. Beating it says the model explains *which*
    # choice was made, not only that leaders mostly wait.
    base, base_ll = problem.solve(only=("act",))
    rows = []
    for i, (d, (_, _, legal, choice)) in enumerate(zip(decisions, problem.rows, strict=True)):
        p = probabilities(
            d.features, np.array([params[parameter_name(f, d.actor)] for f in FEATURES])
        )[0]
        if d.documented:
            rows.append(
                {
                    "actor": d.actor,
                    "date": d.date,
                    "choice": d.choice_id,
                    "p": float(p[choice]),
                    "options": int(legal.sum()),
                    "p_base_rate": problem.chance(base, i),
                }
            )
    waits = [d for d in decisions if not d.documented]
    p_waits = []
    for d in waits:
        p = probabilities(
            d.features, np.array([params[parameter_name(f, d.actor)] for f in FEATURES])
        )[0]
        p_waits.append(float(p[d.choice]))
    baseline = {
        "uniform": float(sum(-np.log(r[2].sum()) for r in problem.rows)),
        "base_rate": base_ll,
        "decisions": len(decisions),
        "documented": len(rows),
        "silent_turns_mean_p": float(np.mean(p_waits)) if p_waits else 1.0,
    }
    loo = []
    if leave_one_out:
        for i, d in enumerate(decisions):
            if not d.documented:
                continue
            b, _ = problem.solve(skip=i)
            loo.append(
                {"actor": d.actor, "date": d.date, "choice": d.choice_id, "p": problem.chance(b, i)}
            )
    return FitResult(
        scenario.id,
        scenario.version,
        scenario.content_hash,
        "maximum likelihood (conditional logit, L-BFGS-B within the declared "
        "ranges; intervals from the observed information)",
        dt.date.today().isoformat(),
        params,
        low,
        high,
        at_bound,
        ll,
        baseline,
        rows,
        loo,
    )


def write_values(text: str, values: dict[str, float]) -> str:
    """The scenario file's text with the ``value:`` of each named parameter replaced,
    everything else (comments, order, sources) kept as written."""
    import re

    lines = text.split("\n")
    current = None
    for i, line in enumerate(lines):
        m = re.match(r"^  - id: (\S+)\s*$", line)
        if m:
            current = m.group(1)
            continue
        if current in values and re.match(r"^    value: ", line):
            lines[i] = f"    value: {values[current]:.3g}"
            current = None
    return "\n".join(lines)


DOCTRINES = ("hawk", "dove", "rational", "organizational", "political")


def compare_stand_ins(scenario: Scenario, result: FitResult) -> None:
    """Add to ``result.baseline`` how the deterministic doctrines explain the record:
    the best of them for every seat at once, with a 1% tremble (see
    :data:`TREMBLE`)."""
    from crisislab.agents.registry import make_agent

    decisions = record_decisions(scenario)
    best: tuple[float, int, str] | None = None
    for name in DOCTRINES:
        agents = {
            a: make_agent(name, scenario, a)
            for a in scenario.players
            if scenario.role(a) == "player"
        }
        ll, right = doctrine_log_likelihood(scenario, decisions, agents)
        if best is None or ll > best[0]:
            best = (ll, right, name)
    if best is not None:
        result.baseline["doctrines"] = best[0]
        result.baseline["doctrines_right"] = float(best[1])
        result.baseline["doctrines_name"] = best[2]  # type: ignore[assignment]
