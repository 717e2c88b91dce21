"""Looking inside the odds: a uniform sample of crises, where wars come from, and paths.

All three are read off the lines :class:`~crisislab.analysis.track.Tracking` follows in
the batch's rows (so they stay exact when many crises share a row) and are reduced per
chunk to counts that merge exactly, like the rest of an :class:`Aggregate`:

- the *sample*: among the crises meeting the run's end condition, the ``k`` with the
  lowest *priority*, a 64-bit hash of the crisis's own key at a (turn, stream) that no
  rule or agent draws. Lowest-``k`` by an independent hash is a uniform sample without
  replacement (every crisis counts once, whatever row it shared), it does not depend on
  the chunking, and it leaves every draw of the simulation as it was. A sampled crisis
  is re-created from (seed, index) alone (see :mod:`crisislab.engine.streams`).
- the *origins* of war: for every crisis ending in a violent outcome, the happening that
  first brought its escalation to the war level, the turn, and the key facts then.
- the *paths*: the order in which a crisis first saw each key happening, with its
  outcome, and the turn it parted from the record's own path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from crisislab.analysis.aggregate import Aggregate, Layout
from crisislab.analysis.stats import wilson
from crisislab.analysis.track import Tracking, key_ids
from crisislab.engine.streams import CrisisStreams, priorities
from crisislab.scenario.display import format_value, variable_label
from crisislab.scenario.model import Scenario

NO_ONSET = -1  # a violent outcome whose escalation never reached the war level
TOP_PATHS = 10


# ---- per chunk ---------------------------------------------------------------------------


def chunk_extras(
    agg: Aggregate,
    layout: Layout,
    tracking: Tracking,
    streams: CrisisStreams,
    track: np.ndarray,
    outcome: np.ndarray,
    end_turn: np.ndarray,
    reached: np.ndarray,
    sample_size: int,
) -> Aggregate:
    """``agg`` with the chunk's sample, origins and paths (per-crisis arrays in)."""
    outcome = outcome.astype(np.int64)
    end_turn = end_turn.astype(np.int64)
    if tracking.where is not None:
        match = track[tracking.where_line] > 0.5
    else:
        match = np.ones(outcome.size, dtype=bool)
    extra: dict[str, Any] = {"matched": int(match.sum())}
    if sample_size > 0:
        rows = np.flatnonzero(match)
        prio = priorities(streams)[rows]
        if rows.size > sample_size:
            keep = np.argpartition(prio, sample_size - 1)[:sample_size]
            rows, prio = rows[keep], prio[keep]
        ids = streams.crisis_ids
        extra["sample_size"] = sample_size
        extra["sample"] = tuple(
            sorted(
                (int(p), int(ids[r]), int(outcome[r]), int(end_turn[r]))
                for p, r in zip(prio, rows, strict=True)
            )
        )
    if tracking.war_level is not None:
        extra["origins"] = _origins(layout, tracking, track, outcome, reached)
    if tracking.keys:
        extra["paths"] = _paths(tracking, track[:, match], outcome[match], end_turn[match])
    return replace(agg, **extra)


def _origins(
    layout: Layout, tracking: Tracking, track: np.ndarray, outcome: np.ndarray, reached: np.ndarray
) -> dict[tuple[int, int, int, tuple[float, ...]], int]:
    violent = np.array(layout.violent, dtype=np.int64)
    at_war = np.isin(outcome, violent)
    if not at_war.any():
        return {}
    line = tracking.origin_line
    code = np.rint(track[line, at_war]).astype(np.int64)
    onset = reached[at_war].astype(np.int64)
    code[onset < 0] = NO_ONSET
    facts = track[line + 1 : line + 1 + len(tracking.key_facts), at_war]
    table = np.vstack([outcome[at_war], code, onset, facts]).T
    uniq, counts = np.unique(table, axis=0, return_counts=True)
    return {
        (int(r[0]), int(r[1]), int(r[2]), tuple(float(x) for x in r[3:])): int(c)
        for r, c in zip(uniq, counts, strict=True)
    }


def _paths(
    tracking: Tracking, track: np.ndarray, outcome: np.ndarray, end_turn: np.ndarray
) -> dict[tuple[tuple[int, ...], int, int], int]:
    k = len(tracking.keys)
    if outcome.size == 0:
        return {}
    first = np.rint(track[tracking.key_line : tracking.key_line + k]).astype(np.int64)
    table = np.vstack([first, outcome, end_turn]).T
    uniq, counts = np.unique(table, axis=0, return_counts=True)
    record = dict(tracking.record_path)
    record_seq = tuple(j for j, _ in tracking.record_path)
    out: Counter[tuple[tuple[int, ...], int, int]] = Counter()
    for row, c in zip(uniq, counts, strict=True):
        turns, o, end = row[:k], int(row[k]), int(row[k + 1])
        path = order(turns)
        out[
            (path, o, leave_turn(path, turns, o, end, record_seq, record, tracking.record_outcome))
        ] += int(c)
    return dict(out)


def order(turns: np.ndarray) -> tuple[int, ...]:
    """The key happenings a crisis saw, by the turn it first saw each (then file order)."""
    return tuple(j for _, j in sorted((int(t), j) for j, t in enumerate(turns) if t >= 0))


def leave_turn(
    path: tuple[int, ...],
    turns: np.ndarray,
    outcome: int,
    end: int,
    record_seq: tuple[int, ...],
    record: Mapping[int, int],
    record_outcome: int,
) -> int:
    """The turn a crisis parts from the record's path (-1 if it never does): at the
    first key happening where the two differ, the earlier of the crisis's own and the
    record's; at its end if it only ends differently (or ends before the record's next)."""
    if path == record_seq and outcome == record_outcome:
        return -1
    p = 0
    while p < min(len(path), len(record_seq)) and path[p] == record_seq[p]:
        p += 1
    candidates = [end]
    if p < len(path):
        candidates.append(int(turns[path[p]]))
    if p < len(record_seq):
        candidates.append(record[record_seq[p]])
    return min(candidates)


def record_path(scenario: Scenario, tracking: Tracking) -> Tracking:
    """``tracking`` with the record's own path: its key happenings, with the turn of
    each, played with every actor's documented choices and chance forced to the record."""
    from crisislab.engine.engine import Engine
    from crisislab.engine.loop import turns as play_turns
    from crisislab.runner import historical_agents, start_batch

    engine = Engine(scenario, chance="history")
    state = start_batch(engine, 1, 0)
    keys_only = replace(tracking, reports=(), where=None, war_level=None, key_facts=())
    keys_only.start(state)
    for _ in play_turns(engine, state, historical_agents(scenario)):
        keys_only.update(state, state.turn - 1)
    turns = state.track[keys_only.key_line :, 0]
    seq = order(turns)
    return replace(
        tracking,
        record_path=tuple((j, int(turns[j])) for j in seq),
        record_outcome=int(state.outcome[0]),
    )


# ---- summaries ---------------------------------------------------------------------------


def _p(count: int, n: int) -> dict[str, float | int]:
    low, high = wilson(count, n)
    return {"count": int(count), "p": count / n if n else 0.0, "low": low, "high": high}


def happening(scenario: Scenario, code: int) -> dict[str, Any]:
    """An onset code as words: the action or event, who, and what kind of start."""
    n_actions = len(scenario.actions)
    if code == NO_ONSET or code >= n_actions + len(scenario.events):
        return {
            "id": None,
            "kind": "none",
            "actor": None,
            "label": "No single happening reached the war level",
        }
    if code < n_actions:
        a = scenario.actions[code]
        return {"id": a.id, "kind": "action", "actor": a.actor, "label": a.label}
    e = scenario.events[code - n_actions]
    return {
        "id": e.id,
        "kind": "incident" if e.incident else "chance",
        "actor": None,
        "label": e.label,
    }


def _median_turn(counts: Mapping[int, int]) -> int:
    total = sum(counts.values())
    seen = 0
    for turn in sorted(counts):
        seen += counts[turn]
        if 2 * seen >= total:
            return turn
    return -1


def summarise_origins(agg: Aggregate, scenario: Scenario, tracking: Tracking) -> dict[str, Any]:
    """Where the wars of a run came from: per happening that began them, the share of
    wars, the median onset date and, per key fact, the share in which it held; the same
    per violent outcome; and the onset dates. The counts add up to the wars."""
    turns = scenario.clock.turns
    wars = sum(agg.origins.values())
    facts = [scenario.variables[i] for i in tracking.key_facts]

    def table(
        items: list[tuple[tuple[int, int, int, tuple[float, ...]], int]],
    ) -> list[dict[str, Any]]:
        total = sum(c for _, c in items)
        by_code: dict[int, list[tuple[tuple[int, int, int, tuple[float, ...]], int]]] = {}
        for key, c in items:
            by_code.setdefault(key[1], []).append((key, c))
        rows = []
        for code, group in by_code.items():
            count = sum(c for _, c in group)
            onset: Counter[int] = Counter()
            for key, c in group:
                onset[key[2]] += c
            median = _median_turn(onset)
            row: dict[str, Any] = {
                **happening(scenario, code),
                **_p(count, total),
                "median_onset": turns[median].label if median >= 0 else None,
            }
            row["facts"] = {}
            for j, v in enumerate(facts):
                values: Counter[float] = Counter()
                for key, c in group:
                    values[key[3][j]] += c
                row["facts"][v.id] = [
                    {"value": format_value(scenario, v.id, x), **_p(c, count)}
                    for x, c in sorted(values.items())
                ]
            rows.append(row)
        rows.sort(key=lambda r: -r["count"])
        return rows

    items = list(agg.origins.items())
    by_date: Counter[str] = Counter()
    for key, c in items:
        if key[2] >= 0:
            by_date[turns[key[2]].date.isoformat()] += c
    fact_share = {}
    for j, v in enumerate(facts):
        values: Counter[float] = Counter()
        for key, c in items:
            values[key[3][j]] += c
        fact_share[v.id] = {
            "label": variable_label(scenario, v.id),
            "values": [
                {"value": format_value(scenario, v.id, x), **_p(c, wars)}
                for x, c in sorted(values.items())
            ],
        }
    outcomes = {}
    for o in scenario.outcomes:
        mine = [(k, c) for k, c in items if k[0] == o.index]
        if mine:
            outcomes[o.id] = {
                "label": o.label,
                "count": sum(c for _, c in mine),
                "happenings": table(mine),
            }
    return {
        "wars": wars,
        "key_facts": [v.id for v in facts],
        "happenings": table(items),
        "facts": fact_share,
        "by_outcome": outcomes,
        "dates": [{"date": d, "count": c, "p": c / wars} for d, c in sorted(by_date.items())],
    }


def summarise_paths(
    agg: Aggregate, scenario: Scenario, tracking: Tracking, top: int = TOP_PATHS
) -> dict[str, Any]:
    """The most frequent paths among the matching crises, each with its share and 95%
    interval and the median date it leaves the record; the record's own path always
    among them; the rest together as one line, so the shares add up."""
    ids = key_ids(scenario)
    turns = scenario.clock.turns
    n = agg.matched
    grouped: dict[tuple[tuple[int, ...], int], Counter[int]] = {}
    for (path, outcome, leave), c in agg.paths.items():
        grouped.setdefault((path, outcome), Counter())[leave] += c
    record = (tuple(j for j, _ in tracking.record_path), tracking.record_outcome)
    ranked = sorted(grouped, key=lambda k: (-sum(grouped[k].values()), k))
    shown = ranked[:top]
    if record in grouped and record not in shown:
        shown.append(record)

    def steps(path: tuple[int, ...]) -> list[dict[str, str]]:
        out = []
        for j in path:
            hid = ids[j]
            if hid in {a.id for a in scenario.actions}:
                a = scenario.action(hid)
                out.append({"id": hid, "actor": a.actor, "label": a.label})
            else:
                out.append({"id": hid, "actor": "", "label": scenario.event(hid).label})
        return out

    rows: list[dict[str, Any]] = []
    for key in shown:
        path, outcome = key
        leaves = grouped[key]
        count = sum(leaves.values())
        median = (
            _median_turn({t: c for t, c in leaves.items() if t >= 0})
            if any(t >= 0 for t in leaves)
            else -1
        )
        rows.append(
            {
                "steps": steps(path),
                "outcome": scenario.outcomes[outcome].id,
                "outcome_label": scenario.outcomes[outcome].label,
                **_p(count, n),
                "record": key == record,
                "leaves_record": turns[median].label if median >= 0 else None,
                "leaves_record_date": turns[median].date.isoformat() if median >= 0 else None,
            }
        )
    rest = n - sum(int(r["count"]) for r in rows)
    return {
        "crises": n,
        "paths": len(grouped),
        "key_happenings": list(ids),
        "record_path": {
            "steps": steps(record[0]),
            "outcome": scenario.outcomes[record[1]].id if record[1] >= 0 else None,
            **_p(sum(grouped.get(record, Counter()).values()), n),
        },
        "top": rows,
        "other": {**_p(rest, n), "paths": len(grouped) - len(rows)},
    }


def share_text(p: float) -> str:
    """A share for a reader: "12.3%"."""
    if p <= 0:
        return "0%"
    return f"{100 * p:.3g}%" if p < 0.9995 else f"{100 * p:.4g}%"


def interval_text(item: Mapping[str, Any]) -> str:
    return f"[{share_text(item['low'])}, {share_text(item['high'])}]"
