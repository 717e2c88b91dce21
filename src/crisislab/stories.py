"""Sampled crises written out whole: JSON Lines (one crisis a line), or one row per
crisis-turn as CSV or Parquet for pandas, R or DuckDB.

Each crisis carries its seed index (``SEED:INDEX``), so ``crisislab replay --crisis``
with the same agents, what-ifs and parameters tells exactly the same story.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crisislab.replay import SimulatedCrisis

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


class StoryError(ValueError):
    """A trace file that cannot be written; the message says how to fix it."""


def trace_format(path: Path) -> str:
    """The format a trace file's name asks for (``StoryError`` if none)."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise StoryError(
            f"--trace {path}: name the file .jsonl (JSON Lines), .csv or "
            ".parquet (one row per crisis and turn)"
        )
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise StoryError(
                "writing Parquet needs pyarrow: pip install "
                "'crisislab[parquet]', or write .csv or .jsonl"
            ) from None
    return fmt


def replay_command(scenario: str, crisis: SimulatedCrisis, meta: Mapping[str, Any]) -> str:
    """The command that retells ``crisis``."""
    parts = ["crisislab", "replay", scenario, "--crisis", crisis.ref]
    for actor, spec in meta.get("agents", {}).items():
        if spec not in ("historical", "scripted"):
            parts += ["--agent", f"{actor}={spec}"]
    for w in meta.get("what_ifs", []):
        parts += ["--what-if", w]
    for name, value in meta.get("parameters", {}).items():
        parts += ["--param", f"{name}={value:g}"]
    return " ".join(parts)


def story_json(
    crisis: SimulatedCrisis, meta: Mapping[str, Any], scenario_ref: str
) -> dict[str, Any]:
    """One crisis as one JSON object: the run it came from, its turns, its final state
    and its story (the entries ``replay --crisis --format json`` gives)."""
    story = crisis.story.to_json()
    return {
        "crisis": crisis.ref,
        "seed": crisis.seed,
        "index": crisis.index,
        **meta,
        "replay": replay_command(scenario_ref, crisis, meta),
        "outcome": crisis.outcome,
        "outcome_label": story["outcome_label"],
        "end_date": story["end_date"],
        "end_turn": crisis.end_turn,
        "turns": [t.to_json() for t in crisis.turns],
        "final_state": crisis.final,
        "story": story["events"],
    }


def turn_rows(crisis: SimulatedCrisis, seats: Sequence[str]) -> list[dict[str, Any]]:
    """One row per turn of ``crisis``: who chose what, what fired, what arrived and
    changed, and how the crisis ended (on every row, for grouping)."""
    rows = []
    for t in crisis.turns:
        row: dict[str, Any] = {
            "crisis": crisis.ref,
            "seed": crisis.seed,
            "index": crisis.index,
            "turn": t.turn,
            "date": t.date,
            "label": t.label,
        }
        for seat in seats:
            row[f"choice_{seat}"] = t.choices.get(seat, "")
        row["events"] = ";".join(t.events)
        row["letters"] = ";".join(t.letters)
        row["changes"] = "; ".join(c.text for c in t.changes)
        row["outcome"] = crisis.outcome
        row["end_turn"] = crisis.end_turn
        row["last"] = t.turn == crisis.end_turn
        rows.append(row)
    return rows


def write_trace(
    path: Path,
    crises: Sequence[SimulatedCrisis],
    meta: Mapping[str, Any],
    seats: Sequence[str],
    scenario_ref: str,
) -> None:
    """Write ``crises`` to ``path`` in the format its name asks for (``scenario_ref``:
    how the command that retells them names the scenario)."""
    fmt = trace_format(path)
    try:
        if fmt == "jsonl":
            with path.open("w", encoding="utf-8") as f:
                for c in crises:
                    doc = story_json(c, meta, scenario_ref)
                    f.write(json.dumps(doc, ensure_ascii=False) + "\n")
            return
        rows = [r for c in crises for r in turn_rows(c, seats)]
        if fmt == "csv":
            fields = [
                "crisis",
                "seed",
                "index",
                "turn",
                "date",
                "label",
                *(f"choice_{s}" for s in seats),
                "events",
                "letters",
                "changes",
                "outcome",
                "end_turn",
                "last",
            ]
            with path.open("w", encoding="utf-8", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=fields)
                writer.writeheader()
                writer.writerows(rows)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    except OSError as e:
        raise StoryError(f"cannot write {path}: {e.strerror or e}") from None
