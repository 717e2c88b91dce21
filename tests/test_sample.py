"""Sampled crises (simulate --sample/--where/--trace), their exact retelling (replay
--crisis), the trace formats, the tutorial of docs/simulate.md, and where wars come from."""

from __future__ import annotations

import csv
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from crisislab.analysis.simulate import Variant, build, seat_specs, simulate
from crisislab.cli import app
from crisislab.engine.streams import CrisisStreams, priorities
from crisislab.runner import run_batch
from crisislab.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")
DOCS = ROOT / "docs" / "simulate.md"


def run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "160"})
    assert "Traceback" not in result.output
    return result


@pytest.fixture(autouse=True)
def _no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "runs.db"))


@pytest.fixture(scope="module")
def cuba_wars(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Three tactical nuclear wars of 2,000 crises, as JSON Lines."""
    path = tmp_path_factory.mktemp("trace") / "wars.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "cuba-1962",
            "--runs",
            "2000",
            "--seed",
            "1",
            "--sample",
            "3",
            "--where",
            "outcome == 'tactical_nuclear'",
            "--trace",
            str(path),
            "--no-store",
            "--workers",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_sampled_story_is_retold_exactly(cuba_wars: list[dict[str, Any]]) -> None:
    assert len(cuba_wars) == 3
    for crisis in cuba_wars:
        assert crisis["outcome"] == "tactical_nuclear"  # played again, it meets --where
        assert crisis["crisis"] == f"1:{crisis['index']}"
        assert crisis["replay"] == f"crisislab replay cuba-1962 --crisis {crisis['crisis']}"
        told = run("replay", "cuba-1962", "--crisis", crisis["crisis"], "--format", "json")
        assert told.exit_code == 0, told.output
        story = json.loads(told.output)
        assert story["crisis"] == crisis["index"] and story["outcome"] == "tactical_nuclear"
        assert story["events"] == crisis["story"]
        assert story["end_date"] == crisis["end_date"]
        # every turn has every seat's choice, and the last turn is the crisis's end
        assert all(set(t["choices"]) == {"usa", "ussr", "cuba", "un"} for t in crisis["turns"])
        assert crisis["turns"][-1]["turn"] == crisis["end_turn"]
        assert crisis["final_state"]["war_level"] == 4  # tactical nuclear use
        fired = {e for t in crisis["turns"] for e in t["events"]}
        assert fired & {"submarine_nuclear_torpedo", "local_nuclear_use"}


def test_replay_of_a_crisis_reads_as_text(cuba_wars: list[dict[str, Any]]) -> None:
    ref = cuba_wars[0]["crisis"]
    told = run("replay", "cuba-1962", "--crisis", ref, "--no-pager")
    assert told.exit_code == 0, told.output
    assert f"simulated crisis {ref}" in told.output
    assert "The crisis ends on" in told.output and "Tactical nuclear war" in told.output


def test_the_sample_is_the_lowest_priorities_among_the_matching_crises() -> None:
    """Drawn crisis by crisis, independently of the run: lumped rows count each crisis."""
    sc = load_scenario(MINI)
    for agents in ([], ["red=random"]):  # lumped rows, then one row per crisis
        variant = Variant(seats=seat_specs(sc, agents))
        sim = simulate(
            sc, 3000, 4, variant, workers=1, chunk_size=700, where="outcome == 'war'", sample=25
        )
        variant_scenario, seated = build(sc, variant)
        result = run_batch(variant_scenario, seated, 3000, seed=4)
        war = variant_scenario.outcome("war").index
        matching = np.flatnonzero(result.outcome == war)
        assert sim.aggregate.matched == matching.size > 25
        prio = priorities(CrisisStreams(4, np.arange(3000)))
        expected = matching[np.argsort(prio[matching], kind="stable")][:25]
        assert [i for i, _, _ in sim.sample] == [int(i) for i in expected]
        assert all(o == war for _, o, _ in sim.sample)


def test_sampling_changes_no_statistic_and_not_the_chunking() -> None:
    sc = load_scenario(MINI)
    plain = simulate(sc, 3000, 2, workers=1)
    sampled = simulate(sc, 3000, 2, workers=1, chunk_size=1000, where="tension >= 3", sample=10)
    again = simulate(sc, 3000, 2, workers=2, chunk_size=400, where="tension >= 3", sample=10)
    strip = {"matching"}
    assert {k: v for k, v in sampled.summary.items() if k not in strip} == plain.summary
    assert sampled.sample == again.sample and len(sampled.sample) == 10
    assert sampled.summary["matching"] == again.summary["matching"]
    assert 0 < sampled.summary["matching"]["count"] < 3000


def test_csv_has_one_row_per_crisis_turn(tmp_path: Path) -> None:
    path = tmp_path / "crises.csv"
    result = run(
        "simulate",
        MINI,
        "--runs",
        "500",
        "--seed",
        "3",
        "--sample",
        "4",
        "--trace",
        str(path),
        "--no-store",
    )
    assert result.exit_code == 0, result.output
    with path.open() as f:
        rows = list(csv.DictReader(f))
    crises: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        crises.setdefault(row["crisis"], []).append(row)
    assert len(crises) == 4
    for turns in crises.values():
        numbers = [int(r["turn"]) for r in turns]
        assert numbers == list(range(numbers[0], int(turns[0]["end_turn"]) + 1))
        assert [r["last"] for r in turns] == ["False"] * (len(turns) - 1) + ["True"]
        assert all(r["choice_red"] and r["choice_blue"] for r in turns)
    for ref in crises:  # the listed crises are the written ones
        assert f"crisis {ref}:" in result.output


def test_a_parquet_trace_loads_in_pandas(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")  # the parquet extra, which the test extra installs
    import pandas as pd

    path = tmp_path / "crises.parquet"
    result = run(
        "simulate", MINI, "--runs", "300", "--sample", "2", "--trace", str(path), "--no-store"
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(path)
    assert table["crisis"].nunique() == 2 and table["last"].sum() == 2


def test_parquet_without_pyarrow_says_which_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    path = tmp_path / "crises.parquet"
    result = run(
        "simulate", MINI, "--runs", "300", "--sample", "2", "--trace", str(path), "--no-store"
    )
    assert result.exit_code == 2
    assert "pyarrow" in result.output and "crisislab[parquet]" in result.output
    assert not path.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--where", "outcome == 'nonsense'"], "nonsense"),
        (["--where", "no_such_name > 1"], "no_such_name"),
        (["--where", "tension >"], "tension >"),
        (["--sample", "-1"], "--sample"),
        (["--trace", "x.jsonl"], "--sample"),
        (["--sample", "2", "--trace", "x.txt"], ".jsonl"),
    ],
)
def test_bad_sample_options_are_one_clear_line(args: list[str], says: str) -> None:
    result = run("simulate", MINI, "--runs", "100", "--no-store", *args)
    assert result.exit_code == 2, result.output
    assert says in result.output


@pytest.mark.parametrize(
    ("ref", "says"), [("12", "SEED:INDEX"), ("a:b", "SEED:INDEX"), ("1:-3", "SEED:INDEX")]
)
def test_bad_crisis_reference(ref: str, says: str) -> None:
    result = run("replay", MINI, "--crisis", ref)
    assert result.exit_code == 2 and says in result.output


def test_replay_line_up_options_need_a_crisis() -> None:
    result = run("replay", MINI, "--agent", "red=random")
    assert result.exit_code == 2 and "--crisis" in result.output


def test_war_origins_account_for_every_war() -> None:
    result = run(
        "simulate",
        "cuba-1962",
        "--runs",
        "2000",
        "--seed",
        "1",
        "--format",
        "json",
        "--no-store",
        "--workers",
        "1",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    origins = doc["war"]["origins"]
    sc = load_scenario("cuba-1962")
    wars = sum(doc["outcomes"][o.id]["count"] for o in sc.outcomes if o.escalation > 0)
    assert wars > 50 and origins["wars"] == wars
    assert sum(h["count"] for h in origins["happenings"]) == wars
    assert sum(d["count"] for d in origins["dates"]) == wars
    for oid, part in origins["by_outcome"].items():
        assert sum(h["count"] for h in part["happenings"]) == doc["outcomes"][oid]["count"]
    for fact in origins["key_facts"]:
        assert sum(v["count"] for v in origins["facts"][fact]["values"]) == wars
    kinds = {h["id"]: h["kind"] for h in origins["happenings"]}
    assert kinds.get("incident_spiral") == "chance"
    assert None not in kinds  # every war has a happening that began it
    text = run(
        "simulate", "cuba-1962", "--runs", "300", "--seed", "1", "--no-store", "--workers", "1"
    )
    assert "Where wars come from" in text.output


# ---- the tutorial of docs/simulate.md ------------------------------------------------------


def tutorial() -> tuple[list[str], str]:
    doc = DOCS.read_text(encoding="utf-8")
    section = doc.split("#### Tutorial: ten wars, read and counted", 1)[1].split("\n### ", 1)[0]
    commands = [
        line.strip()
        for block in re.findall(r"```bash\n(.*?)```", section, re.S)
        for line in block.splitlines()
        if line.startswith("crisislab ")
    ]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    return commands, code


def test_the_tutorial_draws_reads_and_loads_ten_wars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands, code = tutorial()
    assert len(commands) == 3
    monkeypatch.chdir(tmp_path)
    outputs = []
    for command in commands:
        args = shlex.split(command)[1:]
        result = run(*args)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    listed = [re.findall(r"crisis (\d+:\d+):", out) for out in outputs[:2]]
    assert listed[0] == listed[1] and len(listed[0]) == 10  # same sample, either format
    assert "1:478" in listed[0]  # the crisis the tutorial reads
    assert "Tactical nuclear war" in outputs[2]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/simulate.md", "exec"), namespace)  # noqa: S102
    crises = namespace["crises"]
    assert sorted(crises.index) == sorted(listed[0])
    violent = {o.id for o in load_scenario("cuba-1962").outcomes if o.escalation > 0}
    assert set(crises["outcome"]) <= violent
    began = namespace["began"].groupby("crisis")["date"].min()
    assert len(began) == 10 and began["1:478"] == "1962-10-27"
    stories = [json.loads(line) for line in (tmp_path / "wars.jsonl").read_text().splitlines()]
    assert [s["crisis"] for s in stories] == listed[0]


# ---- the debrief: a war from the player's own decision point --------------------------------


def test_debrief_tells_a_war_from_the_players_decision(tmp_path: Path) -> None:
    moves = tmp_path / "moves.yaml"
    moves.write_text("- follow: 1962-10-02\n- choose: blue_wait\n- follow: end\n")
    game = json.loads(
        run(
            "play",
            MINI,
            "--as",
            "blue",
            "--chance",
            "history",
            "--moves",
            str(moves),
            "--format",
            "json",
        ).stdout
    )
    gid = str(game["game_id"])
    told = run("debrief", gid, "--story", "war", "--runs", "400", "--format", "json")
    assert told.exit_code == 0, told.output
    doc = json.loads(told.output)
    assert doc["turn_label"] == "1962-10-03 am" and doc["actor"] == "blue"
    crisis = doc["crisis"]
    assert crisis["outcome"] == "war" and crisis["crisis"].startswith("0:")
    first = crisis["turns"][0]
    assert first["label"] == "1962-10-03 am" and first["choices"]["blue"] == "blue_wait"
    # the same 400 crises the debrief weighs the decision on: as many wars
    weighed = json.loads(run("debrief", gid, "--runs", "400", "--format", "json").stdout)
    (decision,) = weighed["decisions"]
    assert doc["matching"] == round(decision["outcomes"]["war"]["after"]["p"] * 400) > 0
    text = run("debrief", gid, "--story", "war", "--runs", "400")
    assert text.exit_code == 0 and "One of them, drawn at random" in text.output
    assert "The crisis ends on" in text.output
    bad = run("debrief", gid, "--story", "peace")
    assert bad.exit_code == 2 and "war" in bad.output


def test_a_crisis_with_a_stochastic_agent_is_retold_by_its_own_command(tmp_path: Path) -> None:
    path = tmp_path / "wars.jsonl"
    result = run(
        "simulate",
        MINI,
        "--runs",
        "1500",
        "--seed",
        "7",
        "--agent",
        "red=random",
        "--param",
        "p_clash=0.3",
        "--sample",
        "3",
        "--where",
        "outcome == 'war'",
        "--trace",
        str(path),
        "--no-store",
    )
    assert result.exit_code == 0, result.output
    for line in path.read_text().splitlines():
        crisis = json.loads(line)
        command = shlex.split(crisis["replay"])
        assert command[:3] == ["crisislab", "replay", MINI]
        assert "--agent" in command and "red=random" in command and "p_clash=0.3" in command
        told = run(*command[1:], "--format", "json")
        assert told.exit_code == 0, told.output
        assert json.loads(told.output)["events"] == crisis["story"]
        assert crisis["outcome"] == "war" and crisis["agents"]["red"] == "random"


def test_where_alone_counts_the_matching_crises() -> None:
    result = run(
        "simulate",
        MINI,
        "--runs",
        "800",
        "--seed",
        "1",
        "--no-store",
        "--where",
        "outcome == 'war'",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(
        run(
            "simulate",
            MINI,
            "--runs",
            "800",
            "--seed",
            "1",
            "--no-store",
            "--where",
            "outcome == 'war'",
            "--format",
            "json",
        ).output
    )
    wars = doc["outcomes"]["war"]["count"]
    assert doc["matching"]["count"] == wars > 0 and "sample" not in doc
    assert f"{wars:,} crises (" in result.output and "end where outcome == 'war'" in result.output
