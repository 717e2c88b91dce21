"""Golden tests: seeded replays and runs must not change unless the model does.

When a scenario or the engine changes on purpose, regenerate the files with
``CRISISLAB_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and review the diff:
it shows exactly which documented steps or outcome counts moved.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crisislab.agents.historical import RandomAgent
from crisislab.replay import replay
from crisislab.runner import historical_agents, run_batch
from crisislab.scenario.loader import load_scenario

GOLDEN = Path(__file__).parent / "golden"
MINI = Path(__file__).parent / "data" / "mini.yaml"
UPDATE = os.environ.get("CRISISLAB_UPDATE_GOLDEN") == "1"


def check(name: str, data: Any) -> None:
    path = GOLDEN / name
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"no golden file {path}; create it with CRISISLAB_UPDATE_GOLDEN=1")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)


def _replay_digest(ref: str) -> dict[str, Any]:
    r = replay(load_scenario(ref)).to_json()
    r.pop("content_hash")
    r.pop("engine_version")  # provenance, not the replay: it changes with each release
    return r


def test_cuba_replay_is_golden() -> None:
    check("cuba-1962.replay.json", _replay_digest("cuba-1962"))


def test_mini_replay_is_golden() -> None:
    check("mini.replay.json", _replay_digest(str(MINI)))


def _counts(ref: str, agents: str, n: int, seed: int) -> dict[str, Any]:
    sc = load_scenario(ref)
    seats = (
        historical_agents(sc)
        if agents == "historical"
        else {a: RandomAgent(sc, a) for a in sc.players if sc.role(a) == "player"}
    )
    result = run_batch(sc, seats, n, seed=seed)
    counts = np.bincount(result.outcome, minlength=len(result.outcome_ids))
    return {
        "outcomes": dict(zip(result.outcome_ids, counts.tolist(), strict=True)),
        "mean_end_turn": round(float(result.end_turn.mean()), 6),
        "mean_peak": round(float(result.peak_escalation.mean()), 6),
        "first_ten": result.outcome_names()[:10],
    }


@pytest.mark.parametrize(
    ("ref", "agents", "n", "seed"),
    [
        ("cuba-1962", "historical", 5000, 1),
        ("cuba-1962", "random", 2000, 2),
        (str(MINI), "random", 2000, 3),
    ],
    ids=["cuba-historical", "cuba-random", "mini-random"],
)
def test_seeded_runs_are_golden(ref: str, agents: str, n: int, seed: int) -> None:
    name = f"{Path(ref).stem}.{agents}.{n}.{seed}.json"
    check(name, _counts(ref, agents, n, seed))
