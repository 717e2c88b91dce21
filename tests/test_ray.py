"""``--backend ray`` gives the same result as a local run of the same seed.

The test starts a local Ray instance with two CPUs and shuts it down; if Ray is not
installed or cannot start here, it is skipped with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crisislab.analysis.simulate import Variant, seat_specs, simulate
from crisislab.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'crisislab[ray]')")
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    except Exception as e:  # noqa: BLE001 - any failure to start means: skip, saying why
        pytest.skip(f"Ray cannot start in this environment: {type(e).__name__}: {e}")
    yield ray
    ray.shutdown()


def test_ray_local_and_serial_runs_are_identical(ray_local: Any) -> None:
    sc = load_scenario(MINI)
    variant = Variant(seats=seat_specs(sc, ["red=random"]))
    serial = simulate(sc, 5000, seed=13, variant=variant, workers=1, chunk_size=1200)
    pooled = simulate(sc, 5000, seed=13, variant=variant, workers=2, chunk_size=1200)
    on_ray = simulate(sc, 5000, seed=13, variant=variant, backend="ray", chunk_size=1200)
    docs = []
    for sim in (serial, pooled, on_ray):
        doc = sim.to_json()
        doc.pop("elapsed_s")
        doc.pop("execution")
        docs.append(json.dumps(doc))
    assert docs[0] == docs[1] == docs[2]
    assert serial.aggregate == on_ray.aggregate
    assert ray_local.is_initialized()  # an instance we started is left to us to stop
