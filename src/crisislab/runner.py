"""Running whole crises: line-ups of agents in, results out.

Above the agents: it seats a line-up (scripted actors follow their script), walks a
crisis along the record to a later start, and plays batches through the one loop
(:mod:`crisislab.engine.loop`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.historical import HistoricalAgent, ScriptedAgent
from crisislab.engine.engine import ChanceMode, Engine
from crisislab.engine.loop import lumpable, run_turns
from crisislab.engine.state import BatchState
from crisislab.engine.streams import CrisisStreams
from crisislab.scenario.model import Scenario


@dataclass(frozen=True)
class BatchResult:
    """How each crisis of a batch ended. Arrays are indexed like ``crisis_ids``."""

    scenario: str
    version: str
    content_hash: str
    seed: int
    crisis_ids: np.ndarray
    outcome: np.ndarray  # outcome index
    end_turn: np.ndarray
    peak_escalation: np.ndarray
    payoffs: np.ndarray  # (actors, N)
    outcome_ids: tuple[str, ...]

    def outcome_names(self) -> list[str]:
        return [self.outcome_ids[i] for i in self.outcome]


def complete_agents(scenario: Scenario, agents: Mapping[str, Agent]) -> dict[str, Agent]:
    """Fill the seats nobody was given: scripted actors follow their script; a missing
    player is an error."""
    out: dict[str, Agent] = dict(agents)
    unknown = set(out) - set(scenario.players)
    if unknown:
        raise KeyError(f"no such acting actor: {', '.join(sorted(unknown))}")
    for actor in scenario.players:
        if actor in out:
            continue
        if scenario.role(actor) == "scripted":
            out[actor] = ScriptedAgent(scenario, actor)
        else:
            raise KeyError(f"no agent given for the player '{actor}'")
    return out


def historical_agents(scenario: Scenario) -> dict[str, Agent]:
    return {a: HistoricalAgent(scenario, a) for a in scenario.players}


def along_record(scenario: Scenario, turn: int, streams: CrisisStreams) -> BatchState:
    """One crisis (of the one stream of ``streams``) walked along the historical track,
    its players playing the record, its chance events firing where the track has them,
    until ``turn`` (or its end, if it ends first)."""
    one = Engine(scenario, chance="history")
    single = one.start(1, streams=streams)
    return run_turns(one, single, historical_agents(scenario), until=turn)


def start_batch(
    engine: Engine,
    n: int,
    seed: int | np.random.SeedSequence = 0,
    crisis_ids: np.ndarray | None = None,
    start_turn: int | None = None,
    lumped: bool = False,
    streams: CrisisStreams | None = None,
) -> BatchState:
    """A fresh batch of ``n`` crises (crisis ids ``0..n-1`` unless given) at the
    scenario's start, or at ``start_turn``, reached along the historical track
    (:func:`along_record`) and copied to every crisis; the arguments are those of
    :meth:`Engine.start`."""
    if streams is None:
        ids = np.arange(n, dtype=np.int64) if crisis_ids is None else np.asarray(crisis_ids)
        streams = CrisisStreams(seed, ids)
    elif len(streams) != n:
        raise ValueError(f"start_batch() was given {len(streams)} streams for {n} crises")
    sc = engine.scenario
    start = sc.start_turn if start_turn is None else start_turn
    origin = along_record(sc, start, streams.subset(np.array([0]))) if start > 0 else None
    return engine.start(n, streams=streams, lumped=lumped, origin=origin)


def run_batch(
    scenario: Scenario,
    agents: Mapping[str, Agent],
    n: int,
    seed: int = 0,
    chance: ChanceMode = "free",
    crisis_ids: np.ndarray | None = None,
    start_turn: int | None = None,
) -> BatchResult:
    """Run ``n`` crises to their end (crisis ids ``0..n-1`` unless given)."""
    engine = Engine(scenario, chance=chance)
    seated = complete_agents(scenario, agents)
    lumped = lumpable(seated)
    state = start_batch(
        engine, n, seed, crisis_ids=crisis_ids, start_turn=start_turn, lumped=lumped
    )
    run_turns(engine, state, seated)
    return result_of(scenario, state, seed)


def result_of(scenario: Scenario, state: BatchState, seed: int) -> BatchResult:
    """The per-crisis results of a finished batch (lumped or not)."""
    return BatchResult(
        scenario=scenario.id,
        version=scenario.version,
        content_hash=scenario.content_hash,
        seed=seed,
        crisis_ids=state.streams.crisis_ids.copy(),
        outcome=state.crisis_field("outcome").copy(),
        end_turn=state.crisis_field("end_turn").copy(),
        peak_escalation=state.crisis_field("peak").copy(),
        payoffs=state.crisis_field("payoffs").copy(),
        outcome_ids=tuple(o.id for o in scenario.outcomes),
    )


def run_onward(
    scenario: Scenario,
    state: BatchState,
    agents: Mapping[str, Agent],
    n: int,
    seed: int = 0,
    row: int = 0,
    chance: ChanceMode = "free",
) -> BatchResult:
    """Run ``n`` crises onward from crisis ``row`` of ``state`` (say, a game in progress):
    each copy gets its own random stream from ``seed``, so the estimate is reproducible."""
    engine = Engine(scenario, chance=chance)
    seated = complete_agents(scenario, agents)
    streams = CrisisStreams(seed, np.arange(n, dtype=np.int64))
    one = state.select(np.array([row]))
    lumped = lumpable(seated)
    batch = one.lump(streams) if lumped else one.tiled(streams)
    run_turns(engine, batch, seated)
    return result_of(scenario, batch, seed)


def run_onward_many(
    scenario: Scenario,
    states: Sequence[BatchState],
    agents: Mapping[str, Agent],
    n: int,
    seed: int = 0,
    chance: ChanceMode = "free",
) -> list[np.ndarray]:
    """:func:`run_onward` from row 0 of each of ``states``, all in one batch: the payoffs
    (actors, ``n``) of each, equal to ``run_onward(scenario, state, agents, n,
    seed).payoffs``.

    Copy *j* of every state draws from the stream of crisis *j* of ``seed``, as it would
    alone, and a crisis's draws do not depend on the batch it is in. The batch starts
    with the states at the earliest turn; when it reaches the turn of later states, their
    copies join it (the batch is rebuilt from its running rows and theirs), so the whole
    set costs about one run's turns rather than one run per state. Rows are lumped when
    the agents allow it, and crises of different states whose positions meet are stepped
    as one row, which changes no crisis's result."""
    from crisislab.engine.state import ROW_FIELDS

    engine = Engine(scenario, chance=chance)
    seated = complete_agents(scenario, agents)
    lumped = lumpable(seated)
    copies = CrisisStreams(seed, np.arange(n, dtype=np.int64))
    n_actors = len(scenario.actors)
    out = [np.zeros((n_actors, n)) for _ in states]
    by_turn: dict[int, list[int]] = {}
    for i, state in enumerate(states):
        if state.lumped:
            raise ValueError("run_onward_many() takes states of unlumped batches")
        by_turn.setdefault(state.turn, []).append(i)

    batch: BatchState | None = None
    owner = np.zeros(0, dtype=np.int64)  # per crisis of the batch: which state
    copy = np.zeros(0, dtype=np.int64)  # and which copy of it

    def harvest(b: BatchState) -> None:
        payoffs = b.crisis_field("payoffs")
        for i in np.unique(owner):
            mine = owner == i
            out[int(i)][:, copy[mine]] = payoffs[:, mine]

    for turn, group in sorted(by_turn.items()):
        if batch is not None:
            run_turns(engine, batch, seated, until=turn)
        joining = {
            name: np.concatenate([getattr(states[i], name)[..., :1] for i in group], axis=-1)
            for name in ROW_FIELDS
        }
        m = len(group)
        new_owner = np.repeat(np.array(group, dtype=np.int64), n)
        new_copy = np.tile(np.arange(n, dtype=np.int64), m)
        new_row_of = np.repeat(np.arange(m, dtype=np.int64), n)
        if batch is not None:
            harvest(batch)  # final for crises that ended; the rest go on below
            if batch.done.all():
                batch = None
        if batch is not None:
            live_rows = np.flatnonzero(~batch.done)
            if batch.row_of is not None:
                row_of = batch.row_of
                running = np.flatnonzero(row_of >= 0)
                running = running[~batch.done[row_of[running]]]
                remap = np.full(batch.n, -1, dtype=np.int64)
                remap[live_rows] = np.arange(live_rows.size)
                kept_row_of = remap[row_of[running]]
            else:
                running = live_rows
                kept_row_of = np.arange(live_rows.size)
            rows = {
                name: np.concatenate([getattr(batch, name)[..., live_rows], joining[name]], axis=-1)
                for name in ROW_FIELDS
            }
            owner = np.concatenate([owner[running], new_owner])
            copy = np.concatenate([copy[running], new_copy])
            row_of_all = np.concatenate([kept_row_of, new_row_of + live_rows.size])
            actors = batch.actors
        else:
            rows = {k: v.copy() for k, v in joining.items()}
            owner, copy, row_of_all = new_owner, new_copy, new_row_of
            actors = states[group[0]].actors
        streams = copies.subset(copy)
        if lumped:
            batch = BatchState(
                turn,
                streams,
                rows,
                row_of=row_of_all,
                sizes=np.bincount(row_of_all, minlength=rows["values"].shape[-1]).astype(np.int64),
            )
        else:
            batch = BatchState(turn, streams, {k: v[..., row_of_all] for k, v in rows.items()})
        batch.actors = actors
    if batch is not None:
        run_turns(engine, batch, seated)
        harvest(batch)
    return out


def default_workers() -> int:
    """How many processes a run may use by default: every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_shared(
    items: Sequence[Any],
    here: Callable[[Any], Any],
    there: Callable[[Any], Any],
    workers: int,
    setup: Callable[..., None],
    setup_args: tuple[Any, ...],
    done: Callable[[int], None] | None = None,
) -> list[Any]:
    """Each of ``items`` run by ``here`` in this process or by ``there`` (a module-level
    function) in one of ``workers - 1`` spawned worker processes, each set up once by
    ``setup(*setup_args)`` and handed this process's replays of the record. This process
    has its scenario and agents built already, so it starts on the first item at once
    while the workers start up; every process takes the next item when it finishes one.
    The results come in the order of ``items`` (which process ran an item must never
    change its result); ``done(i)`` is called as item *i*'s result arrives. An error or
    an interrupt stops the workers at once rather than finishing every item."""
    import multiprocessing
    import threading
    import time
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    from crisislab.agents.record import known_records

    waiting = deque(range(len(items)))
    lock = threading.Lock()
    results: list[Any] = [None] * len(items)
    futures: dict[Future[Any], int] = {}
    reported: set[int] = set()

    def take() -> int | None:
        with lock:
            return waiting.popleft() if waiting else None

    def arrived(i: int, result: Any) -> None:
        results[i] = result
        reported.add(i)
        if done is not None:
            done(i)

    pool = ProcessPoolExecutor(
        max_workers=workers - 1,
        mp_context=multiprocessing.get_context("spawn"),  # a fresh interpreter; never set globally
        initializer=_start_worker,
        initargs=(setup, setup_args, known_records()),
    )

    def submit(_done: Future[Any] | None = None) -> None:
        if _done is not None and (_done.cancelled() or _done.exception() is not None):
            return
        i = take()
        if i is None:
            return
        try:
            future = pool.submit(there, items[i])
        except RuntimeError:  # the pool is shutting down: this process takes the item
            with lock:
                waiting.appendleft(i)
            return
        with lock:
            futures[future] = i
        future.add_done_callback(submit)  # the worker's next item

    def report() -> None:
        with lock:
            finished = [(f, i) for f, i in futures.items() if i not in reported and f.done()]
        for future, i in finished:
            arrived(i, future.result())  # a worker's error is raised here

    try:
        for _ in range(workers - 1):
            submit()
        while len(reported) < len(items):
            i = take()
            if i is not None:
                arrived(i, here(items[i]))
            else:
                with lock:
                    pending = [f for f, j in futures.items() if j not in reported]
                if pending:
                    wait(pending, return_when=FIRST_COMPLETED)
                else:  # a worker's next item is being handed over
                    time.sleep(0.005)
            report()
    except BaseException:
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        raise
    pool.shutdown()
    return results


def _start_worker(
    setup: Callable[..., None], args: tuple[Any, ...], records: dict[Any, Any] | None
) -> None:
    """A worker of :func:`run_shared`: the parent's replays of the record (so it need not
    replay it again), then its own set-up."""
    if records:
        from crisislab.agents.record import remember_records

        remember_records(records)
    setup(*args)
