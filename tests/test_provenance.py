"""Provenance: a result records the engine version beside the scenario's version and the
content hash of the scenario's canonical form (crisislab.scenario.canonical), which
layout (key order, comments, quoting, defaults written out) does not change and any
value does."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import crisislab
from crisislab.cli import app
from crisislab.engine.version import engine_version
from crisislab.scenario.canonical import canonical_json, content_hash
from crisislab.scenario.loader import compile_spec, load_scenario, load_text

MINI = Path(__file__).parent / "data" / "mini.yaml"
TEXT = MINI.read_text(encoding="utf-8")
DATA = yaml.safe_load(TEXT)
HASH = load_text(TEXT).content_hash


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same data with the keys of every mapping in a random order (lists kept)."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def dumped(data: Any, style: str | None = None, width: int = 70) -> str:
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_style=style, width=width
    )


def test_the_hash_is_the_sha256_of_the_documented_canonical_form() -> None:
    import hashlib

    sc = load_scenario(MINI)
    form = canonical_json(sc.spec)
    assert sc.content_hash == hashlib.sha256(form.encode("utf-8")).hexdigest()
    assert json.loads(form) == sc.spec.model_dump(mode="json")
    assert "\n" not in form and list(json.loads(form)) == sorted(json.loads(form))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), quoted=st.booleans(), comments=st.booleans())
@example(seed=141, quoted=True, comments=True)  # once put a comment inside a folded string
def test_key_order_comments_and_quoting_do_not_change_the_hash(
    seed: int, quoted: bool, comments: bool
) -> None:
    rng = random.Random(seed)
    # A comment line inside a scalar folded over several lines would become part of
    # the text, so scalars stay on one line when comments go in anywhere.
    text = dumped(
        shuffled(DATA, rng), style='"' if quoted else None, width=10**9 if comments else 70
    )
    if comments:
        lines = text.splitlines()
        for _ in range(5):  # whole-line comments anywhere
            at = rng.randrange(len(lines) + 1)
            lines.insert(at, " " * rng.randrange(4) + "# a note that changes nothing")
        text = "\n".join(lines) + "\n"
    assert text != TEXT
    assert load_text(text).content_hash == HASH


def test_a_default_written_out_does_not_change_the_hash() -> None:
    data = copy.deepcopy(DATA)
    channel = next(c for c in data["negotiation"]["channels"] if not c.get("public"))
    assert "public" not in channel
    channel["public"] = False  # the default, now explicit
    assert load_text(dumped(data)).content_hash == HASH


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_any_value_changed_changes_the_hash(data: st.DataObject) -> None:
    changed = copy.deepcopy(DATA)
    kind = data.draw(st.sampled_from(["parameter", "summary", "initial", "label"]))
    if kind == "parameter":
        p = data.draw(st.sampled_from(changed["parameters"]))
        low, high = p["range"]
        new = data.draw(st.floats(low, high).filter(lambda x: x != p["value"]))
        p["value"] = new
    elif kind == "summary":
        a = data.draw(st.sampled_from(changed["actions"]))
        a["summary"] = a["summary"] + " " + data.draw(st.sampled_from(["Again.", "Slowly."]))
    elif kind == "initial":
        v = next(v for v in changed["variables"] if v["id"] == "tension")
        v["initial"] = data.draw(st.integers(0, 5).filter(lambda x: x != v["initial"]))
    else:
        changed["scenario"]["title"] += data.draw(st.sampled_from([" (revised)", "!"]))
    assert load_text(dumped(changed)).content_hash != HASH


def test_the_order_of_a_list_is_part_of_the_content() -> None:
    changed = copy.deepcopy(DATA)
    changed["events"] = changed["events"][::-1]  # events fire in file order
    assert load_text(dumped(changed)).content_hash != HASH


def test_a_scenario_built_in_code_hashes_as_its_file_does() -> None:
    sc = load_scenario(MINI)
    assert compile_spec(sc.spec).content_hash == sc.content_hash == content_hash(sc.spec)


def test_the_builtins_hash_stably_from_file_and_spec() -> None:
    for ref in ("cuba-1962", "october-1973"):
        sc = load_scenario(ref)
        assert len(sc.content_hash) == 64
        assert compile_spec(sc.spec).content_hash == sc.content_hash


# ---- results carry it -------------------------------------------------------------------


def run(*args: str) -> dict[str, Any]:
    r = CliRunner().invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def provenance(doc: dict[str, Any]) -> tuple[str, str, str, str]:
    return doc["scenario"], doc["version"], doc["engine_version"], doc["content_hash"]


def test_engine_version_is_the_package_version() -> None:
    assert engine_version() == crisislab.__version__


@pytest.mark.parametrize(
    "command",
    [
        ("simulate", str(MINI), "--runs", "40", "--no-store", "-f", "json"),
        ("compare", str(MINI), "--runs", "40", "--lineup", "red=hawk", "-f", "json"),
        (
            "sensitivity",
            str(MINI),
            "--runs-per-point",
            "20",
            "--method",
            "oat",
            "--workers",
            "1",
            "-f",
            "json",
        ),
        ("replay", str(MINI), "--format", "json"),
    ],
    ids=["simulate", "compare", "sensitivity", "replay"],
)
def test_results_record_engine_version_scenario_version_and_hash(command: tuple[str, ...]) -> None:
    doc = run(*command)
    assert provenance(doc) == ("mini", "0.1.0", crisislab.__version__, HASH)


def test_calibrate_records_them_too() -> None:
    sc = load_scenario("october-1973")
    doc = run("calibrate", "october-1973", "--runs", "60", "--format", "json")
    assert provenance(doc) == (sc.id, sc.version, crisislab.__version__, sc.content_hash)


def test_a_tournament_records_them_too() -> None:
    sc = load_scenario("cuba-1962")
    doc = run(
        "tournament",
        "cuba-1962",
        "--seat",
        "usa",
        "--entrant",
        "h=hawk",
        "--runs",
        "20",
        "--no-store",
        "--workers",
        "1",
        "--format",
        "json",
    )
    assert provenance(doc) == (sc.id, sc.version, crisislab.__version__, sc.content_hash)


def test_a_stored_run_lists_its_engine_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "runs.db"))
    sim = run("simulate", str(MINI), "--runs", "30", "-f", "json")
    listed = run("runs", "-f", "json")["runs"]
    assert listed[0]["id"] == sim["run_id"]
    assert listed[0]["engine_version"] == crisislab.__version__
    assert listed[0]["content_hash"] == HASH
