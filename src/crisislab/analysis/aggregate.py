"""What a chunk of simulated crises leaves behind: a small, exactly mergeable summary.

A chunk of a run (a contiguous range of crisis ids) is reduced to integer histograms and
exact payoff sums, so merging chunks in any order, on any worker, gives the same numbers
bit for bit, and the summary's size does not depend on how many crises it counts.

"War" is read off the escalation scale: a crisis is at war from the first turn its peak
escalation reaches the lowest level of any violent outcome (an outcome whose escalation is
above 0: for ``cuba-1962`` the air strike, level 6). The hazard of war on a day is the
share of crises still at peace and unended at the start of that day whose war begins that
day. The *record* measure counts, per crisis, the documented steps of the historical
track it reproduced within a tolerance in days (see :mod:`crisislab.analysis.track`);
reported variables keep the histogram of each crisis's lowest and highest value, or of
the first turn a boolean held.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from crisislab.analysis.stats import Z95, quantile_index, wilson
from crisislab.analysis.track import Tracking, step_counts
from crisislab.scenario.display import format_value
from crisislab.scenario.model import Scenario

if TYPE_CHECKING:
    from crisislab.engine.state import BatchState

ReportCounts = dict[str, Any]  # "min"/"max": {value: crises}, or "first": (turns + 1,)


@dataclass(frozen=True)
class Layout:
    """The shape of a scenario's aggregates: outcomes, turns, escalation levels."""

    outcomes: tuple[str, ...]
    actors: tuple[str, ...]
    n_turns: int
    n_levels: int
    war_level: float  # peak escalation at which a crisis counts as at war
    violent: tuple[int, ...] = ()  # the outcomes at war (escalation above 0)

    @classmethod
    def of(cls, scenario: Scenario) -> Layout:
        violent = [o.escalation for o in scenario.outcomes if o.escalation > 0]
        levels = [*scenario.escalation_labels, *(o.escalation for o in scenario.outcomes), 0]
        return cls(
            outcomes=tuple(o.id for o in scenario.outcomes),
            actors=scenario.actors,
            n_turns=len(scenario.clock),
            n_levels=int(max(levels)) + 1,
            war_level=float(min(violent)) if violent else float("inf"),
            violent=tuple(o.index for o in scenario.outcomes if o.escalation > 0),
        )


@dataclass(frozen=True)
class Aggregate:
    """Counts over ``n`` crises. Arrays are int64; payoff sums are exact fractions."""

    n: int
    ends: np.ndarray  # (outcomes, turns): crises ending in outcome o on turn t
    peak: np.ndarray  # (levels,): crises by peak escalation level
    war_onset: np.ndarray  # (turns,): crises whose war begins on turn t
    peace_end: np.ndarray  # (turns,): crises ending on turn t never having been at war
    payoff_sums: tuple[Fraction, ...]  # per actor
    record_steps: np.ndarray = field(  # (steps,): crises reproducing each documented step
        default_factory=lambda: np.zeros(0, np.int64)
    )
    record_hist: np.ndarray = field(  # (steps + 1,): crises by steps reproduced
        default_factory=lambda: np.zeros(1, np.int64)
    )
    reports: dict[str, ReportCounts] = field(default_factory=dict)
    # crises meeting the run's end condition (all, without one), and a uniform sample of
    # them: the ``sample_size`` lowest (priority, crisis, outcome, end turn), a
    # priority being a hash of the crisis's key that no rule draws
    matched: int = 0
    sample_size: int = 0
    sample: tuple[tuple[int, int, int, int], ...] = ()
    # crises ending in a violent outcome, by (outcome, onset code, onset turn, key facts)
    origins: dict[tuple[int, int, int, tuple[float, ...]], int] = field(default_factory=dict)
    # matching crises by (key happenings in order, outcome, turn they leave the record)
    paths: dict[tuple[tuple[int, ...], int, int], int] = field(default_factory=dict)

    @classmethod
    def empty(cls, layout: Layout) -> Aggregate:
        o, t = len(layout.outcomes), layout.n_turns
        return cls(
            0,
            np.zeros((o, t), np.int64),
            np.zeros(layout.n_levels, np.int64),
            np.zeros(t, np.int64),
            np.zeros(t, np.int64),
            tuple(Fraction(0) for _ in layout.actors),
        )

    @classmethod
    def of_state(cls, layout: Layout, tracking: Tracking | None, state: BatchState) -> Aggregate:
        """Reduce the crises of a batch played to its end, reading their results from
        ``state`` (the tracked lines only where ``tracking`` followed them)."""
        followed = tracking is not None
        return cls.of_crises(
            layout,
            tracking,
            outcome=state.crisis_field("outcome"),
            end_turn=state.crisis_field("end_turn"),
            peak=state.crisis_field("peak"),
            war_onset=state.crisis_field("reached"),
            payoffs=state.crisis_field("payoffs"),
            track=state.crisis_field("track") if followed else None,
            hits=state.crisis_field("hits") if followed else None,
        )

    @classmethod
    def of_crises(
        cls,
        layout: Layout,
        tracking: Tracking | None,
        outcome: np.ndarray,
        end_turn: np.ndarray,
        peak: np.ndarray,
        war_onset: np.ndarray,
        payoffs: np.ndarray,
        track: np.ndarray | None = None,
        hits: np.ndarray | None = None,
    ) -> Aggregate:
        """Reduce per-crisis results (``war_onset`` is -1 for crises never at war;
        ``track`` and ``hits`` are the per-crisis lines of ``tracking``)."""
        o, t = len(layout.outcomes), layout.n_turns
        outcome = outcome.astype(np.int64)
        end_turn = end_turn.astype(np.int64)
        ends = np.bincount(outcome * t + end_turn, minlength=o * t).reshape(o, t)
        levels = np.clip(np.rint(peak).astype(np.int64), 0, layout.n_levels - 1)
        at_war = war_onset >= 0
        steps, hist = np.zeros(0, np.int64), np.array([outcome.size], np.int64)
        reports: dict[str, ReportCounts] = {}
        if tracking is not None:
            if hits is not None and tracking.steps:
                steps, hist = step_counts(hits, len(tracking.steps))
            for r in tracking.reports:
                assert track is not None
                if r.boolean:
                    first = np.rint(track[r.line]).astype(np.int64)
                    first[first < 0] = t  # never: the bin after the last turn
                    reports[r.variable] = {"first": np.bincount(first, minlength=t + 1)}
                else:
                    reports[r.variable] = {
                        "min": _value_counts(track[r.line]),
                        "max": _value_counts(track[r.line + 1]),
                    }
        return cls(
            n=int(outcome.size),
            ends=ends.astype(np.int64),
            peak=np.bincount(levels, minlength=layout.n_levels).astype(np.int64),
            war_onset=np.bincount(war_onset[at_war], minlength=t).astype(np.int64),
            peace_end=np.bincount(end_turn[~at_war], minlength=t).astype(np.int64),
            payoff_sums=tuple(_exact_sum(row) for row in payoffs),
            record_steps=steps,
            record_hist=hist,
            reports=reports,
        )

    def merge(self, other: Aggregate) -> Aggregate:
        return Aggregate(
            n=self.n + other.n,
            ends=self.ends + other.ends,
            peak=self.peak + other.peak,
            war_onset=self.war_onset + other.war_onset,
            peace_end=self.peace_end + other.peace_end,
            payoff_sums=tuple(
                a + b for a, b in zip(self.payoff_sums, other.payoff_sums, strict=True)
            ),
            record_steps=_add(self.record_steps, other.record_steps),
            record_hist=_add(self.record_hist, other.record_hist),
            reports=_merge_reports(self.reports, other.reports),
            matched=self.matched + other.matched,
            sample_size=max(self.sample_size, other.sample_size),
            sample=tuple(
                sorted(self.sample + other.sample)[: max(self.sample_size, other.sample_size)]
            ),
            origins=dict(Counter(self.origins) + Counter(other.origins)),
            paths=dict(Counter(self.paths) + Counter(other.paths)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Aggregate):
            return NotImplemented
        return (
            self.n == other.n
            and self.payoff_sums == other.payoff_sums
            and (self.matched, self.sample, self.origins, self.paths)
            == (other.matched, other.sample, other.origins, other.paths)
            and all(
                np.array_equal(getattr(self, f), getattr(other, f))
                for f in ("ends", "peak", "war_onset", "peace_end", "record_steps", "record_hist")
            )
            and _reports_equal(self.reports, other.reports)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def outcome_counts(self) -> np.ndarray:
        return self.ends.sum(axis=1)  # type: ignore[no-any-return]

    @property
    def end_counts(self) -> np.ndarray:
        return self.ends.sum(axis=0)  # type: ignore[no-any-return]

    def at_risk(self) -> np.ndarray:
        """Per turn, crises neither ended nor at war at its start."""
        left = np.cumsum(self.war_onset + self.peace_end) - (self.war_onset + self.peace_end)
        return self.n - left  # type: ignore[no-any-return]


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two count arrays added; an empty aggregate's shorter array counts as zeros."""
    if a.size < b.size:
        a, b = b, a
    out = a.copy()
    out[: b.size] += b
    return out


def _value_counts(values: np.ndarray) -> dict[float, int]:
    uniq, counts = np.unique(values, return_counts=True)
    return {float(v): int(c) for v, c in zip(uniq, counts, strict=True)}


def _merge_reports(
    a: dict[str, ReportCounts], b: dict[str, ReportCounts]
) -> dict[str, ReportCounts]:
    out: dict[str, ReportCounts] = {}
    for name in dict.fromkeys([*a, *b]):
        x, y = a.get(name, {}), b.get(name, {})
        merged: ReportCounts = {}
        for key in dict.fromkeys([*x, *y]):
            if key == "first":
                merged[key] = _add(
                    x.get(key, np.zeros(0, np.int64)), y.get(key, np.zeros(0, np.int64))
                )
            else:
                merged[key] = dict(Counter(x.get(key, {})) + Counter(y.get(key, {})))
        out[name] = merged
    return out


def _reports_equal(a: dict[str, ReportCounts], b: dict[str, ReportCounts]) -> bool:
    if a.keys() != b.keys():
        return False
    for name in a:
        if a[name].keys() != b[name].keys():
            return False
        for key, x in a[name].items():
            y = b[name][key]
            same = np.array_equal(x, y) if key == "first" else x == y
            if not same:
                return False
    return True


def _exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of float64 values (few distinct values, so cheap)."""
    uniq, counts = np.unique(values, return_counts=True)
    return sum(
        (Fraction(float(v)) * int(c) for v, c in zip(uniq, counts, strict=True) if np.isfinite(v)),
        Fraction(0),
    )


def merge_all(parts: list[Aggregate]) -> Aggregate:
    """Merge aggregates in order (exact, so the order does not change the result)."""
    if not parts:
        raise ValueError("nothing to merge")
    total = parts[0]
    for part in parts[1:]:
        total = total.merge(part)
    return total


def _p(count: int, n: int) -> dict[str, float | int]:
    low, high = wilson(count, n)
    return {"p": count / n if n else 0.0, "low": low, "high": high, "count": int(count)}


def summarise(
    agg: Aggregate,
    scenario: Scenario,
    tracking: Tracking | None,
    likelihood: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The aggregate as plain data: probabilities with 95% Wilson intervals, the end-day
    distribution, peak escalation, the hazard of war day by day, the record reproduced
    (with the documented path's ``likelihood`` if given) and the reported variables."""
    n = agg.n
    turns = scenario.clock.turns
    counts = agg.outcome_counts
    out: dict[str, Any] = {
        "outcomes": {
            o.id: {**_p(int(counts[o.index]), n), "label": o.label} for o in scenario.outcomes
        },
    }
    # the day the crisis ends: a histogram by date
    by_turn = agg.end_counts
    dates: dict[str, dict[str, Any]] = {}
    for t in turns:
        c = int(by_turn[t.index])
        if c:
            d = dates.setdefault(
                t.date.isoformat(), {"date": t.date.isoformat(), "day": t.day, "count": 0}
            )
            d["count"] += c
    day_values = np.array([t.day for t in turns])
    mean_day = float((by_turn * day_values).sum() / n) if n else 0.0
    quant = {}
    if n:
        for q in (0.05, 0.25, 0.5, 0.75, 0.95):
            quant[f"q{int(q * 100):02d}"] = turns[quantile_index(by_turn.tolist(), q)].label
    out["end_day"] = {
        "mean_day": mean_day,
        "epoch": scenario.clock.epoch.isoformat(),
        "quantiles": quant,
        "histogram": [{**d, "p": d["count"] / n} for d in dates.values()],
    }
    labels = scenario.escalation_labels
    peak = agg.peak
    levels = [
        {
            "level": lv,
            "label": labels.get(lv, ""),
            "count": int(peak[lv]),
            "p": int(peak[lv]) / n if n else 0.0,
        }
        for lv in range(len(peak))
        if peak[lv]
    ]
    out["peak_escalation"] = {
        "mean": float((peak * np.arange(len(peak))).sum() / n) if n else 0.0,
        "distribution": levels,
    }
    # the hazard of war, by date
    at_risk = agg.at_risk()
    hazard: list[dict[str, Any]] = []
    seen: set[str] = set()
    for t in turns[scenario.start_turn :]:
        key = t.date.isoformat()
        onsets = int(agg.war_onset[t.index])
        if key in seen:
            if onsets:
                hazard[-1]["onsets"] += onsets
            continue
        seen.add(key)
        hazard.append(
            {
                "date": key,
                "day": t.day,
                "days": max(t.step_days, 1.0),
                "at_risk": int(at_risk[t.index]),
                "onsets": onsets,
            }
        )
    for h in hazard:
        low, high = wilson(h["onsets"], h["at_risk"]) if h["at_risk"] else (0.0, 0.0)
        h["hazard"] = h["onsets"] / h["at_risk"] if h["at_risk"] else 0.0
        h["low"], h["high"] = low, high
    out["war"] = {
        "threshold": Layout.of(scenario).war_level,
        **_p(int(agg.war_onset.sum()), n),
        "hazard": [h for h in hazard if h["at_risk"]],
    }
    if tracking is not None and tracking.steps:
        out["record"] = summarise_record(agg, scenario, tracking, likelihood)
    if tracking is not None and tracking.reports:
        out["reports"] = {
            r.variable: summarise_report(agg, scenario, r.variable) for r in tracking.reports
        }
    out["payoffs"] = {
        a: float(s / n) if n else 0.0 for a, s in zip(scenario.actors, agg.payoff_sums, strict=True)
    }
    return out


def summarise_record(
    agg: Aggregate, scenario: Scenario, tracking: Tracking, likelihood: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The share of the documented steps each crisis reproduced: its mean with a 95%
    interval (normal, from the exact histogram), its distribution, and each step's
    share of crises."""
    n, k = agg.n, len(tracking.steps)
    hist = agg.record_hist
    shares = np.arange(hist.size) / k
    mean = float((hist * shares).sum() / n) if n else 0.0
    var = float((hist * (shares - mean) ** 2).sum() / (n - 1)) if n > 1 else 0.0
    half = Z95 * math.sqrt(var / n) if n else 0.0
    steps = []
    for step, count in zip(tracking.steps, agg.record_steps, strict=True):
        label = (
            scenario.event(step.event).label
            if step.event is not None
            else scenario.action(step.action).label  # type: ignore[arg-type]
        )
        steps.append(
            {
                "date": step.date.isoformat(),
                "actor": step.actor,
                "action": step.action,
                "event": step.event,
                "label": label,
                **_p(int(count), n),
            }
        )
    out: dict[str, Any] = {
        "tolerance_days": tracking.tolerance,
        "documented_steps": k,
        "mean": mean,
        "low": max(0.0, mean - half),
        "high": min(1.0, mean + half),
        "distribution": [
            {"share": int(i) / k, "steps": int(i), "count": int(c), "p": int(c) / n if n else 0.0}
            for i, c in enumerate(hist)
            if c
        ],
        "steps": steps,
    }
    if likelihood is not None:
        out["log_likelihood"] = likelihood
    return out


def summarise_report(agg: Aggregate, scenario: Scenario, name: str) -> dict[str, Any]:
    """A reported variable: for a number, the distributions of its lowest and highest
    values; for a boolean, the share of crises where it ever held and the quantiles of
    the first turn it did, over all crises ("never" where that quantile falls among the
    crises in which it never held)."""
    counts = agg.reports[name]
    n = agg.n
    if "first" in counts:
        first = np.asarray(counts["first"], dtype=np.int64)
        turns = scenario.clock.turns
        ever = int(first[:-1].sum())
        quant: dict[str, str | None] = {}
        if n:
            for q in (0.05, 0.25, 0.5, 0.75, 0.95):
                i = quantile_index(first.tolist(), q)
                quant[f"q{int(q * 100):02d}"] = turns[i].label if i < len(turns) else "never"
        by_date: dict[str, int] = {}
        for t in turns:
            c = int(first[t.index])
            if c:
                by_date[t.label] = by_date.get(t.label, 0) + c
        return {
            "label": _variable_label(scenario, name),
            "type": "bool",
            "p_ever": _p(ever, n),
            "first_true_quantiles": quant,
            "first_true_distribution": [
                {"turn": label, "count": c, "p": c / n} for label, c in by_date.items()
            ],
        }
    var = scenario.variable(name)
    return {
        "label": _variable_label(scenario, name),
        "type": var.type,
        "min_distribution": _distribution(counts["min"], n, scenario, name),
        "max_distribution": _distribution(counts["max"], n, scenario, name),
    }


def _distribution(
    counts: dict[float, int], n: int, scenario: Scenario, name: str
) -> list[dict[str, Any]]:
    """Each value reached, with its words as a reader sees them (a day as its date)."""
    return [
        {
            "value": value,
            "label": format_value(scenario, name, value),
            "count": c,
            "p": c / n if n else 0.0,
        }
        for value, c in sorted(counts.items())
    ]


def _variable_label(scenario: Scenario, name: str) -> str:
    for v in scenario.spec.variables:
        if v.id == name:
            return v.description
    return name
