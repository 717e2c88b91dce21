"""What a chunk of simulated crises leaves behind: a small, exactly mergeable summary.

A chunk of a run (a contiguous range of crisis ids) is reduced to integer histograms and
exact payoff sums, so merging chunks in any order, on any worker, gives the same numbers
bit for bit, and the summary's size does not depend on how many crises it counts.

"War" is read off the escalation scale: a crisis is at war from the first turn its peak
escalation reaches the lowest level of any violent outcome (an outcome whose escalation is
above 0: for ``cuba-1962`` the air strike, level 6). The hazard of war on a day is the
share of crises still at peace and unended at the start of that day whose war begins that
day. A crisis *follows history* when it ends in the outcome of the historical replay on
the replay's end date.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from crisislab.analysis.stats import quantile_index, wilson
from crisislab.scenario.model import Scenario


@dataclass(frozen=True)
class HistoryMark:
    """How the record ends: the replay's outcome and the turns of its end date."""

    outcome: int
    outcome_id: str
    end_date: str
    turns: tuple[int, ...]

    @classmethod
    def of(cls, scenario: Scenario) -> HistoryMark:
        from crisislab.replay import replay

        r = replay(scenario)
        turns = tuple(t.index for t in scenario.clock.turns if t.date.isoformat() == r.end_date)
        return cls(scenario.outcome(r.outcome).index, r.outcome, r.end_date, turns)


@dataclass(frozen=True)
class Layout:
    """The shape of a scenario's aggregates: outcomes, turns, escalation levels."""

    outcomes: tuple[str, ...]
    actors: tuple[str, ...]
    n_turns: int
    n_levels: int
    war_level: float  # peak escalation at which a crisis counts as at war

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
        )


@dataclass(frozen=True)
class Aggregate:
    """Counts over ``n`` crises. Arrays are int64; payoff sums are exact fractions."""

    n: int
    ends: np.ndarray  # (outcomes, turns): crises ending in outcome o on turn t
    peak: np.ndarray  # (levels,): crises by peak escalation level
    war_onset: np.ndarray  # (turns,): crises whose war begins on turn t
    peace_end: np.ndarray  # (turns,): crises ending on turn t never having been at war
    follows_history: int
    payoff_sums: tuple[Fraction, ...]  # per actor

    @classmethod
    def empty(cls, layout: Layout) -> Aggregate:
        o, t = len(layout.outcomes), layout.n_turns
        return cls(0, np.zeros((o, t), np.int64), np.zeros(layout.n_levels, np.int64),
                   np.zeros(t, np.int64), np.zeros(t, np.int64), 0,
                   tuple(Fraction(0) for _ in layout.actors))

    @classmethod
    def of_crises(cls, layout: Layout, mark: HistoryMark | None, outcome: np.ndarray,
                  end_turn: np.ndarray, peak: np.ndarray, war_onset: np.ndarray,
                  payoffs: np.ndarray) -> Aggregate:
        """Reduce per-crisis results (``war_onset`` is -1 for crises never at war)."""
        o, t = len(layout.outcomes), layout.n_turns
        outcome = outcome.astype(np.int64)
        end_turn = end_turn.astype(np.int64)
        ends = np.bincount(outcome * t + end_turn, minlength=o * t).reshape(o, t)
        levels = np.clip(np.rint(peak).astype(np.int64), 0, layout.n_levels - 1)
        at_war = war_onset >= 0
        follows = 0
        if mark is not None:
            follows = int(np.count_nonzero((outcome == mark.outcome)
                                           & np.isin(end_turn, mark.turns)))
        return cls(
            n=int(outcome.size),
            ends=ends.astype(np.int64),
            peak=np.bincount(levels, minlength=layout.n_levels).astype(np.int64),
            war_onset=np.bincount(war_onset[at_war], minlength=t).astype(np.int64),
            peace_end=np.bincount(end_turn[~at_war], minlength=t).astype(np.int64),
            follows_history=follows,
            payoff_sums=tuple(_exact_sum(row) for row in payoffs),
        )

    def merge(self, other: Aggregate) -> Aggregate:
        return Aggregate(
            n=self.n + other.n, ends=self.ends + other.ends, peak=self.peak + other.peak,
            war_onset=self.war_onset + other.war_onset,
            peace_end=self.peace_end + other.peace_end,
            follows_history=self.follows_history + other.follows_history,
            payoff_sums=tuple(a + b for a, b in zip(self.payoff_sums, other.payoff_sums,
                                                    strict=True)),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Aggregate):
            return NotImplemented
        return (self.n == other.n and self.follows_history == other.follows_history
                and self.payoff_sums == other.payoff_sums
                and all(np.array_equal(getattr(self, f), getattr(other, f))
                        for f in ("ends", "peak", "war_onset", "peace_end")))

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


def _exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of float64 values (few distinct values, so cheap)."""
    uniq, counts = np.unique(values, return_counts=True)
    return sum((Fraction(float(v)) * int(c) for v, c in zip(uniq, counts, strict=True)
                if np.isfinite(v)), Fraction(0))


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


def summarise(agg: Aggregate, scenario: Scenario, mark: HistoryMark | None) -> dict[str, Any]:
    """The aggregate as plain data: probabilities with 95% Wilson intervals, the end-day
    distribution, peak escalation, the hazard of war day by day, history followed."""
    n = agg.n
    turns = scenario.clock.turns
    counts = agg.outcome_counts
    out: dict[str, Any] = {
        "outcomes": {o.id: {**_p(int(counts[o.index]), n), "label": o.label}
                     for o in scenario.outcomes},
    }
    # the day the crisis ends: a histogram by date
    by_turn = agg.end_counts
    dates: dict[str, dict[str, Any]] = {}
    for t in turns:
        c = int(by_turn[t.index])
        if c:
            d = dates.setdefault(t.date.isoformat(), {"date": t.date.isoformat(),
                                                      "day": t.day, "count": 0})
            d["count"] += c
    day_values = np.array([t.day for t in turns])
    mean_day = float((by_turn * day_values).sum() / n) if n else 0.0
    quant = {}
    if n:
        for q in (0.05, 0.25, 0.5, 0.75, 0.95):
            quant[f"q{int(q * 100):02d}"] = turns[quantile_index(by_turn.tolist(), q)].label
    out["end_day"] = {"mean_day": mean_day, "epoch": scenario.clock.epoch.isoformat(),
                      "quantiles": quant,
                      "histogram": [{**d, "p": d["count"] / n} for d in dates.values()]}
    labels = scenario.escalation_labels
    peak = agg.peak
    levels = [{"level": lv, "label": labels.get(lv, ""), "count": int(peak[lv]),
               "p": int(peak[lv]) / n if n else 0.0} for lv in range(len(peak)) if peak[lv]]
    out["peak_escalation"] = {
        "mean": float((peak * np.arange(len(peak))).sum() / n) if n else 0.0,
        "distribution": levels,
    }
    # the hazard of war, by date
    at_risk = agg.at_risk()
    hazard: list[dict[str, Any]] = []
    seen: set[str] = set()
    for t in turns[scenario.start_turn:]:
        key = t.date.isoformat()
        onsets = int(agg.war_onset[t.index])
        if key in seen:
            if onsets:
                hazard[-1]["onsets"] += onsets
            continue
        seen.add(key)
        hazard.append({"date": key, "day": t.day, "days": max(t.step_days, 1.0),
                       "at_risk": int(at_risk[t.index]), "onsets": onsets})
    for h in hazard:
        low, high = wilson(h["onsets"], h["at_risk"]) if h["at_risk"] else (0.0, 0.0)
        h["hazard"] = h["onsets"] / h["at_risk"] if h["at_risk"] else 0.0
        h["low"], h["high"] = low, high
    out["war"] = {
        "threshold": Layout.of(scenario).war_level,
        **_p(int(agg.war_onset.sum()), n),
        "hazard": [h for h in hazard if h["at_risk"]],
    }
    if mark is not None:
        out["follows_history"] = {**_p(agg.follows_history, n), "outcome": mark.outcome_id,
                                  "end_date": mark.end_date}
    out["payoffs"] = {a: float(s / n) if n else 0.0
                      for a, s in zip(scenario.actors, agg.payoff_sums, strict=True)}
    return out
