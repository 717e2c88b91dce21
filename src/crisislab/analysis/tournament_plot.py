"""The tournament's figure: each entrant's escalation score a turn with its interval,
and its share of first nuclear use (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crisislab.analysis.plots import _pyplot, _save


def plot_tournament(doc: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    rows = sorted(doc["entrants"], key=lambda r: (r["score"]["per_turn"], r["entrant"]))
    names = [
        (f"{r['entrant']} ({r['seat']})" if len(doc["seats"]) > 1 else r["entrant"])
        + (f", people's play ({r['runs']:,} games)" if r.get("kind") == "people" else "")
        for r in rows
    ]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 1.2 + 0.5 * len(rows)), sharey=True)
    score = [r["score"]["per_turn"] for r in rows]
    left.barh(
        names,
        score,
        color="#b5523b",
        xerr=[
            [s - r["score"]["per_turn_low"] for s, r in zip(score, rows, strict=True)],
            [r["score"]["per_turn_high"] - s for s, r in zip(score, rows, strict=True)],
        ],
        capsize=3,
    )
    left.set_xlabel("escalation score a turn (Rivera et al. 2024), 95% bootstrap interval")
    first = [100 * r["nuclear"]["first_use"]["p"] for r in rows]
    right.barh(
        names,
        first,
        color="#555555",
        xerr=[
            [f - 100 * r["nuclear"]["first_use"]["low"] for f, r in zip(first, rows, strict=True)],
            [100 * r["nuclear"]["first_use"]["high"] - f for f, r in zip(first, rows, strict=True)],
        ],
        capsize=3,
    )
    right.set_xlabel("crises in which it used nuclear weapons first (%)")
    fig.suptitle(
        f"Tournament on {doc['scenario']} {doc['version']}: {doc['runs']:,} crises "
        f"per entrant and line-up, seed {doc['seed']}"
    )
    return _save(fig, path)
