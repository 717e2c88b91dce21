"""Many crises, cut into fixed chunks, run on one core, every core or a Ray cluster.

A run of ``runs`` crises with seed ``seed`` is cut into chunks of consecutive crisis
ids. Each chunk is run by :func:`run_chunk` and reduced to an :class:`Aggregate`; the
aggregates are merged exactly. Crisis *i* draws the same random numbers in any chunk or
worker (see :mod:`crisislab.engine.streams`), and the chunks do not depend on the
number of workers, so a serial, a multi-core and a Ray run of the same seed give the
same result, and memory stays that of one chunk per worker however many runs are asked.

Workers rebuild the scenario variant and its agents from names (agent specs, what-if
ids, parameter values), never from live objects.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.registry import make_agent, parse_seats
from crisislab.analysis.aggregate import Aggregate, Layout, merge_all, summarise
from crisislab.analysis.track import DEFAULT_TOLERANCE, ReportError, Tracking
from crisislab.engine.engine import Engine
from crisislab.engine.loop import lumpable, turns
from crisislab.engine.version import engine_version
from crisislab.runner import complete_agents, default_workers, run_shared, start_batch
from crisislab.scenario.model import Scenario

CHUNK = 65_536  # crises per chunk when an agent draws chance (every crisis is a row)
CHUNK_LUMPED = 524_288  # when every agent is deterministic: rows are shared histories,
# and the engine's cost per turn is mostly per row group, so bigger chunks pay
BACKENDS = ("local", "ray")

Progress = Callable[[int, int], None]  # (crises done, crises in all)


class AnalysisError(ValueError):
    """Bad input to an analysis (runs, what-ifs, parameters, backend); the message says
    what is wrong and how to fix it."""


# ---- what a variant is -------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One set-up of a scenario, by names only: agents per seat, what-ifs, parameters."""

    label: str = "baseline"
    seats: tuple[tuple[str, str], ...] = ()  # (actor, agent spec)
    what_ifs: tuple[str, ...] = ()
    parameters: tuple[tuple[str, float], ...] = ()

    def agents(self) -> dict[str, str]:
        return dict(self.seats)


def seat_specs(scenario: Scenario, options: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``["usa=hawk"]`` checked (raises ``AgentSpecError``) and completed: players not
    named play ``historical``, scripted actors follow their script."""
    parse_seats(list(options), scenario)  # validates names, actors and options
    given = {}
    for opt in options:
        actor, _, spec = opt.partition("=")
        given[actor.strip()] = spec.strip()
    out = []
    for actor in scenario.players:
        default = "scripted" if scenario.role(actor) == "scripted" else "historical"
        out.append((actor, given.get(actor, default)))
    return tuple(out)


def _whatifs() -> Any:
    try:
        from crisislab import whatifs  # type: ignore[attr-defined]
    except ImportError:
        raise AnalysisError(
            "what-ifs are not available in this installation of crisislab; run without --what-if"
        ) from None
    return whatifs


def list_what_ifs(scenario: Scenario) -> list[Any]:
    return list(_whatifs().list_what_ifs(scenario))


def check_what_ifs(scenario: Scenario, ids: Sequence[str]) -> tuple[str, ...]:
    """The what-if ids, checked against those the scenario offers."""
    if not ids:
        return ()
    known = [w.id for w in list_what_ifs(scenario)]
    for wid in ids:
        if wid not in known:
            raise AnalysisError(
                f"unknown what-if '{wid}' for {scenario.id}; the what-ifs "
                f"are: {', '.join(known) or '(none)'}"
            )
    return tuple(ids)


def parse_parameters(scenario: Scenario, options: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """``["p_detect=0.3"]`` -> ``(("p_detect", 0.3),)``, names and numbers checked."""
    out: dict[str, float] = {}
    for opt in options:
        name, eq, text = opt.partition("=")
        name = name.strip()
        if not eq or not name:
            raise AnalysisError(
                f"--param '{opt}' should be NAME=VALUE, e.g. "
                f"{next(iter(scenario.parameters), 'p')}=0.5"
            )
        if name not in scenario.parameters:
            raise AnalysisError(
                f"'{name}' is not a parameter of {scenario.id}; see "
                f"`crisislab validate {scenario.id}` and docs/model.md"
            )
        try:
            value = float(text)
        except ValueError:
            raise AnalysisError(f"--param {name}: '{text}' is not a number") from None
        if not math.isfinite(value):
            raise AnalysisError(f"--param {name}: give a finite number, not '{text}'")
        out[name] = value
    return tuple(out.items())


def parameter_ranges(scenario: Scenario) -> dict[str, tuple[float, float]]:
    return {p.id: (float(p.range[0]), float(p.range[1])) for p in scenario.spec.parameters}


def build(base: Scenario, variant: Variant) -> tuple[Scenario, dict[str, Agent]]:
    """The variant's scenario and its agents, rebuilt from names."""
    scenario = base
    if variant.what_ifs:
        try:
            scenario = _whatifs().apply(scenario, list(variant.what_ifs))
        except (ValueError, KeyError) as e:  # the what-if module's own errors
            raise AnalysisError(f"cannot apply {', '.join(variant.what_ifs)}: {e}") from None
    if variant.parameters:
        scenario = scenario.with_parameters(**dict(variant.parameters))
    agents = {actor: make_agent(spec, scenario, actor) for actor, spec in variant.seats}
    return scenario, complete_agents(scenario, agents)


def auto_chunk(scenario: Scenario, variants: Sequence[Variant]) -> int:
    """The chunk size for these variants: a function of the agents only (never of the
    workers), and results do not depend on it anyway."""
    for variant in variants:
        _, agents = build(scenario, variant)
        if not lumpable(agents):
            return CHUNK
    return CHUNK_LUMPED


# ---- one chunk ---------------------------------------------------------------------------


def run_chunk(
    scenario: Scenario,
    agents: Mapping[str, Agent],
    seed: int,
    start: int,
    stop: int,
    layout: Layout | None = None,
    tracking: Tracking | None = None,
    lumped: bool | None = None,
    sample: int = 0,
) -> Aggregate:
    """Run crises ``start..stop-1`` of the run with ``seed`` to their end and reduce
    them. Same steps as :func:`crisislab.runner.run_batch`, watching for war, and
    following ``tracking`` (reports, the record, an end condition, war's onset, key
    happenings) turn by turn in the rows; keep a uniform ``sample`` of the crises that
    meet the end condition (see :mod:`crisislab.analysis.sample`). Crises share rows
    (``lumped``) when every agent is deterministic, unless told otherwise."""
    layout = layout or Layout.of(scenario)
    engine = Engine(scenario, watch=layout.war_level)  # notes the turn war broke out
    seated = complete_agents(scenario, agents)
    if lumped is None:
        lumped = lumpable(seated)
    ids = np.arange(start, stop, dtype=np.int64)
    state = start_batch(engine, ids.size, seed, crisis_ids=ids, lumped=lumped)
    if tracking is not None:
        tracking.start(state)
    for _ in turns(engine, state, seated):
        if tracking is not None:
            tracking.update(state, state.turn - 1)
    followed = tracking is not None
    track = state.crisis_field("track") if followed else None
    outcome, end_turn = state.crisis_field("outcome"), state.crisis_field("end_turn")
    reached = state.crisis_field("reached")
    agg = Aggregate.of_state(layout, tracking, state)
    if (
        tracking is not None
        and track is not None
        and (
            sample or tracking.where is not None or tracking.war_level is not None or tracking.keys
        )
    ):
        from crisislab.analysis.sample import chunk_extras

        agg = chunk_extras(
            agg, layout, tracking, state.streams, track, outcome, end_turn, reached, sample
        )
    return agg


# ---- a plan: variants x chunks -----------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs, picklable: the base scenario and variants by name."""

    scenario: Scenario
    variants: tuple[Variant, ...]
    runs: int
    seed: int
    chunk_size: int = CHUNK
    reports: tuple[str, ...] = ()  # variables to report (simulate --report)
    record: bool = False  # follow the record's documented steps
    tolerance: float = DEFAULT_TOLERANCE  # days, for the record
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    where: str | None = None  # a condition on how a crisis ends (simulate --where)
    sample: int = 0  # crises to sample among those meeting it (simulate --sample)
    origins: bool = False  # follow the onset of war (simulate's war origins)
    keys: bool = False  # follow the key happenings (crisislab paths)

    def tasks(self) -> list[tuple[int, int, int]]:
        """(variant, first crisis, end) for every chunk, in a fixed order."""
        return [
            (v, start, min(start + self.chunk_size, self.runs))
            for v in range(len(self.variants))
            for start in range(0, self.runs, self.chunk_size)
        ]


Built = tuple[Scenario, dict[str, Agent], Layout, Tracking | None]
_CACHE: dict[tuple[str, int], Built] = {}
_PLAN: Plan | None = None


def tracking_of(
    scenario: Scenario,
    reports: Sequence[str] = (),
    record: bool = True,
    tolerance: float = DEFAULT_TOLERANCE,
    where: str | None = None,
    origins: bool = False,
    keys: bool = False,
) -> Tracking | None:
    """What a run follows beyond outcomes, checked (``AnalysisError`` on a bad name)."""
    if not reports and not record and where is None and not origins and not keys:
        return None
    try:
        tracking = Tracking.of(
            scenario,
            tuple(reports),
            tolerance,
            record,
            where=where,
            war_level=Layout.of(scenario).war_level if origins else None,
            keys=keys,
        )
    except ReportError as e:
        raise AnalysisError(str(e)) from None
    if keys:
        if not tracking.keys:
            raise AnalysisError(
                f"{scenario.id} marks no action or event as key; add "
                "`key: true` to those that make a path (see "
                "docs/scenario-format.md)"
            )
        from crisislab.analysis.sample import record_path

        tracking = record_path(scenario, tracking)
    return tracking


def _built(plan: Plan, v: int) -> Built:
    key = (plan.token, v)
    built = _CACHE.get(key)
    if built is None:
        if len(_CACHE) >= 32:
            _CACHE.clear()
        scenario, agents = build(plan.scenario, plan.variants[v])
        tracking = tracking_of(
            scenario, plan.reports, plan.record, plan.tolerance, plan.where, plan.origins, plan.keys
        )
        built = (scenario, agents, Layout.of(scenario), tracking)
        _CACHE[key] = built
    return built  # not read back: another thread (the web app's) may clear the cache


def run_task(plan: Plan, task: tuple[int, int, int]) -> Aggregate:
    v, start, stop = task
    scenario, agents, layout, tracking = _built(plan, v)
    return run_chunk(scenario, agents, plan.seed, start, stop, layout, tracking, sample=plan.sample)


def _init_worker(plan: Plan) -> None:
    global _PLAN
    _PLAN = plan


def _pool_task(task: tuple[int, int, int]) -> Aggregate:
    assert _PLAN is not None, "worker not initialised"
    return run_task(_PLAN, task)


def run_plan(
    plan: Plan,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Progress | None = None,
) -> list[Aggregate]:
    """One merged aggregate per variant. ``backend='local'`` uses ``workers`` processes
    (every core by default: this process and ``workers - 1`` others); ``'ray'`` runs the
    same chunks as Ray tasks (on the cluster at ``address``, or a local instance)."""
    if plan.runs < 1:
        raise AnalysisError("--runs must be at least 1")
    if plan.seed < 0:
        raise AnalysisError("--seed must be zero or a positive whole number")
    if plan.chunk_size < 1:
        raise AnalysisError("the chunk size must be at least 1")
    tasks = plan.tasks()
    sizes = [stop - start for _, start, stop in tasks]
    done = [0]
    total = plan.runs * len(plan.variants)

    def tick(i: int) -> None:
        done[0] += sizes[i]
        if progress is not None:
            progress(done[0], total)

    if backend == "ray":
        results = _run_ray(plan, tasks, address, tick)
    elif backend == "local":
        workers = default_workers() if workers is None else workers
        if workers < 1:
            raise AnalysisError("--workers must be at least 1")
        if workers == 1 or len(tasks) == 1:
            results = []
            for i, task in enumerate(tasks):
                results.append(run_task(plan, task))
                tick(i)
        else:
            results = _run_pool(plan, tasks, min(workers, len(tasks)), tick)
    else:
        raise AnalysisError(f"unknown backend '{backend}'; use one of: {', '.join(BACKENDS)}")
    return [
        merge_all([r for r, (v, _, _) in zip(results, tasks, strict=True) if v == i])
        for i in range(len(plan.variants))
    ]


def _run_pool(
    plan: Plan, tasks: list[tuple[int, int, int]], workers: int, tick: Callable[[int], None]
) -> list[Aggregate]:
    """Run ``tasks`` on ``workers`` cores: ``workers - 1`` worker processes and this one
    (:func:`~crisislab.runner.run_shared`). Which process runs a chunk never changes its
    result."""
    return run_shared(
        tasks, lambda task: run_task(plan, task), _pool_task, workers, _init_worker, (plan,), tick
    )


def _ray_task(plan: Plan, task: tuple[int, int, int]) -> Aggregate:
    return run_task(plan, task)


def _run_ray(
    plan: Plan, tasks: list[tuple[int, int, int]], address: str | None, tick: Callable[[int], None]
) -> list[Aggregate]:
    from crisislab.extras import require

    ray = require("ray", "ray")
    started = False
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except Exception as e:  # noqa: BLE001 - any failure to connect is the user's to fix
            raise AnalysisError(
                f"cannot start or reach Ray ({address or 'local'}): "
                f"{str(e).splitlines()[0] if str(e) else type(e).__name__}"
            ) from None
        started = True
    try:
        remote = ray.remote(_ray_task)
        plan_ref = ray.put(plan)
        pending = {remote.remote(plan_ref, task): i for i, task in enumerate(tasks)}
        results: list[Aggregate | None] = [None] * len(tasks)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                i = pending.pop(ref)
                results[i] = ray.get(ref)
                tick(i)
        return [r for r in results if r is not None]
    finally:
        if started:
            ray.shutdown()


def _share(count: int, n: int) -> dict[str, Any]:
    from crisislab.analysis.stats import wilson

    low, high = wilson(count, n)
    return {"count": int(count), "p": count / n if n else 0.0, "low": low, "high": high}


# ---- simulate: one variant, summarised ---------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    """A finished run: what was run, the merged aggregate and its summary."""

    scenario: str
    version: str
    content_hash: str
    variant: Variant
    runs: int
    seed: int
    aggregate: Aggregate
    summary: dict[str, Any]
    elapsed_s: float
    backend: str
    workers: int  # 0: as many as the Ray cluster gives
    chunk_size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "version": self.version,
            "engine_version": engine_version(),
            "content_hash": self.content_hash,
            "runs": self.runs,
            "seed": self.seed,
            "agents": self.variant.agents(),
            "what_ifs": list(self.variant.what_ifs),
            "parameters": dict(self.variant.parameters),
            **self.summary,
            "elapsed_s": round(self.elapsed_s, 3),
            "execution": {
                "backend": self.backend,
                "workers": self.workers,
                "chunk_size": self.chunk_size,
            },
        }

    @property
    def sample(self) -> list[tuple[int, int, int]]:
        """The sampled crises: (index in the run, outcome index, end turn)."""
        return [(i, o, t) for _, i, o, t in self.aggregate.sample]

    @property
    def top_outcome(self) -> str:
        outcomes = self.summary["outcomes"]
        return max(outcomes, key=lambda k: outcomes[k]["count"])


def simulate(
    scenario: Scenario,
    runs: int,
    seed: int = 0,
    variant: Variant | None = None,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    reports: Sequence[str] = (),
    tolerance: float = DEFAULT_TOLERANCE,
    where: str | None = None,
    sample: int = 0,
    keys: bool = False,
) -> Simulation:
    """Run ``runs`` crises of one variant (all players ``historical`` by default),
    following the record, the variables in ``reports`` and the onset of war; keep a
    uniform ``sample`` of the crises meeting the end condition ``where``, and (``keys``)
    their paths."""
    from crisislab.analysis.record import path_likelihood

    variant = variant or Variant(seats=seat_specs(scenario, []))
    if not variant.seats:
        variant = Variant(
            variant.label, seat_specs(scenario, []), variant.what_ifs, variant.parameters
        )
    started = time.perf_counter()
    variant_scenario, agents = build(scenario, variant)
    if sample < 0:
        raise AnalysisError(f"--sample must be zero or more crises, not {sample}")
    tracking = tracking_of(
        variant_scenario, reports, True, tolerance, where, True, keys
    )  # checks names
    chunk_size = chunk_size or auto_chunk(scenario, [variant])
    plan = Plan(
        scenario,
        (variant,),
        runs,
        seed,
        chunk_size,
        tuple(reports),
        True,
        tolerance,
        where=where,
        sample=sample,
        origins=True,
        keys=keys,
    )
    (agg,) = run_plan(plan, backend, workers, address, progress)
    likelihood = path_likelihood(variant_scenario, agents).to_json()
    summary = summarise(agg, variant_scenario, tracking, likelihood)
    assert tracking is not None
    from crisislab.analysis.sample import summarise_origins, summarise_paths

    summary["war"]["origins"] = summarise_origins(agg, variant_scenario, tracking)
    if where is not None or sample:
        summary["matching"] = {"where": where, **_share(agg.matched, runs)}
    if keys:
        summary["paths"] = summarise_paths(agg, variant_scenario, tracking)
    elapsed = time.perf_counter() - started
    return Simulation(
        scenario=variant_scenario.id,
        version=variant_scenario.version,
        content_hash=variant_scenario.content_hash,
        variant=variant,
        runs=runs,
        seed=seed,
        aggregate=agg,
        summary=summary,
        elapsed_s=elapsed,
        backend=backend,
        workers=0 if backend == "ray" else (workers or default_workers()),
        chunk_size=chunk_size,
    )
