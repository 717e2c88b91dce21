"""The second built-in crisis, october-1973: it validates, replays its record to the end
with every step cited, simulates deterministically, and its sources resolve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crisislab.cli import app
from crisislab.replay import replay
from crisislab.scenario.loader import builtin_ids, load_scenario
from crisislab.sources import check_sources

SCENARIO = "october-1973"

# (what the record says, replay id, date, half or None): the steps the issue names.
RECORD = [
    ("the Egyptian and Syrian attack", "egypt_cross_canal", "1973-10-06", None),
    ("the Soviet airlift", "ussr_airlift", "1973-10-10", None),
    ("the American airlift", "usa_airlift", "1973-10-13", None),
    ("the Israeli crossing of the canal", "israel_cross_canal", "1973-10-15", None),
    ("Kissinger flies to Moscow", "usa_send_kissinger", "1973-10-20", "am"),
    ("the cease-fire text agreed in Moscow", "ussr_agree_ceasefire", "1973-10-21", "am"),
    ("resolution 338", "unsc_res_338", "1973-10-22", "am"),
    ("the cease-fire takes effect", "ceasefire_takes_effect", "1973-10-22", "pm"),
    ("the cease-fire breaks", "ceasefire_breaks", "1973-10-23", "am"),
    ("Brezhnev's hotline protest", "ussr_hotline_protest", "1973-10-23", "pm"),
    ("resolution 339", "unsc_res_339", "1973-10-23", "pm"),
    ("the Third Army cut off", "ring_closes", "1973-10-24", "am"),
    ("all seven airborne divisions ready", "ussr_alert_airborne", "1973-10-24", "am"),
    (
        "Brezhnev's letter threatening unilateral steps",
        "ussr_threaten_unilateral",
        "1973-10-24",
        "pm",
    ),
    ("the DEFCON 3 alert", "usa_alert_defcon3", "1973-10-24", "pm"),
    ("Nixon's reply", "usa_reject_joint_force", "1973-10-25", "am"),
    ("the Politburo drops the threat", "ussr_accept_un_force", "1973-10-25", "am"),
    ("resolution 340", "unsc_res_340", "1973-10-25", "pm"),
    ("the UN force arrives", "un_force_lands", "1973-10-26", "pm"),
    ("Israel lets a convoy through", "israel_allow_convoy", "1973-10-27", "am"),
    ("supplies reach the Third Army", "convoy_arrives", "1973-10-28", "am"),
    ("the talks at Kilometre 101", "talks_begin", "1973-10-28", "am"),
]


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    return replay(load_scenario(SCENARIO)).to_json()


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_it_is_a_builtin_and_validates_clean() -> None:
    assert SCENARIO in builtin_ids()
    done = invoke("validate", SCENARIO)
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"valid: {SCENARIO}")
    assert "warning" not in done.output.lower()


@pytest.mark.parametrize(("what", "ident", "date", "half"), RECORD, ids=[r[0] for r in RECORD])
def test_documented_step_on_its_date(
    record: dict[str, Any], what: str, ident: str, date: str, half: str | None
) -> None:
    hits = [
        e
        for e in record["events"]
        if e["id"] == ident and e["date"] == date and (half is None or e["half"] == half)
    ]
    assert hits, f"{what}: no '{ident}' on {date} {half or ''}"


def test_the_alert_is_in_the_night_of_24_to_25_october(record: dict[str, Any]) -> None:
    alert = [
        e
        for e in record["events"]
        if any(c["variable"] == "us_defcon" and c["after_value"] == 3 for c in e["changes"])
    ]
    assert len(alert) == 1
    assert (alert[0]["date"], alert[0]["half"], alert[0]["id"]) == (
        "1973-10-24",
        "pm",
        "usa_alert_defcon3",
    )
    # The alert answers the letter of the same evening and comes before Nixon's reply.
    ids = [e["id"] for e in record["events"]]
    assert ids.index("ussr_threaten_unilateral") < ids.index("usa_reject_joint_force")


def test_the_record_is_played_to_its_end_with_every_step_cited(record: dict[str, Any]) -> None:
    sc = load_scenario(SCENARIO)
    played = {(e["id"], e["date"]) for e in record["events"] if e["documented"]}
    for entry in sc.spec.history:
        if entry.narrative:
            continue
        assert (entry.action or entry.event, entry.date.isoformat()) in played, entry
    declared = {s.id for s in sc.spec.sources}
    for e in record["events"] + record["epilogue"]:
        if e["documented"] or e["kind"] in ("record", "outcome"):
            assert e["citations"], e
            assert {c["source"] for c in e["citations"]} <= declared
    last = record["events"][-1]
    assert (last["kind"], last["id"], last["date"]) == ("outcome", "ceasefire_holds", "1973-10-28")
    assert record["outcome"] == "ceasefire_holds"
    assert [e["date"] for e in record["epilogue"]] == ["1973-11-11", "1974-01-18"]


def test_the_replay_command_tells_the_alert() -> None:
    done = invoke("replay", SCENARIO, "--from", "1973-10-24", "--to", "1973-10-25")
    assert done.exit_code == 0, done.output
    assert "DEFCON 4 → DEFCON 3" in done.output
    assert "FRUS 1969–76, vol. XXV, document 269" in done.output


def simulate(*args: str) -> dict[str, Any]:
    done = invoke(
        "simulate",
        SCENARIO,
        "--runs",
        "2000",
        "--seed",
        "1",
        "--no-store",
        "--quiet",
        "--workers",
        "1",
        "--format",
        "json",
        *args,
    )
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def counts(doc: dict[str, Any]) -> dict[str, int]:
    return {k: v["count"] for k, v in doc["outcomes"].items()}


@pytest.fixture(scope="module")
def historical() -> dict[str, Any]:
    return simulate()


def test_seeded_simulate_is_deterministic(historical: dict[str, Any]) -> None:
    again = simulate()
    assert counts(again) == counts(historical)
    assert again["content_hash"] == historical["content_hash"]


def test_the_record_is_a_typical_path(historical: dict[str, Any]) -> None:
    """Under the record's leaders most crises end as 1973 did; the wars that remain come
    from the hazards (incidents at sea, the troops' contact), and no Soviet leader on the
    record's model sends troops, since the record has him drop the threat."""
    c = counts(historical)
    assert sum(c.values()) == 2000
    assert c["ceasefire_holds"] / 2000 > 0.9
    nuclear = c["tactical_nuclear"] + c["strategic_exchange"]
    assert nuclear / 2000 < 0.01
    assert c["soviet_intervention"] == 0


def test_every_outcome_is_reachable() -> None:
    """A Soviet Union and an Israel that choose at random reach every ending, Soviet
    intervention and a strategic exchange included (with the nuclear hazards at the top
    of their declared ranges, so that the top rungs are not a matter of one crisis)."""
    c = counts(
        simulate(
            "--agent",
            "ussr=random",
            "--agent",
            "israel=random",
            "--param",
            "p_tactical_per_day=0.4",
            "--param",
            "p_strategic_per_day=1",
        )
    )
    assert all(n > 0 for n in c.values()), c


def test_the_sources_resolve(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIO)
    report = check_sources(sc.spec, tmp_path)
    assert report.checks
    assert all(c.status == "reference" for c in report.checks), [
        (c.path, c.status) for c in report.checks if c.status != "reference"
    ]
    assert report.ok
    for source in sc.spec.sources:
        assert source.kind == "reference" and source.url and source.url.startswith("https://")
    cited = {c.source for c in report.checks}
    assert cited == {s.id for s in sc.spec.sources}, "a source is listed but never cited"


def test_the_documented_figures_are_the_measured_ones(historical: dict[str, Any]) -> None:
    """docs/october-1973.md quotes the seeded run; it must be the run the scenario gives."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "october-1973.md").read_text("utf-8")
    table = doc.split("With every leader on the record's model", 1)[1]
    table = table.split("A crisis reproduces", 1)[0]
    outcomes = historical["outcomes"]
    rows = {
        "the cease-fire holds and talks begin": "ceasefire_holds",
        "war between the superpowers": "superpower_war",
        "nuclear use in the Middle East": "tactical_nuclear",
    }
    for label, ident in rows.items():
        p = 100 * outcomes[ident]["p"]
        shown = f"{p:.1f}%" if p >= 10 else f"{p:.2f}%"
        assert f"| {label} | {shown} |" in table, (label, shown)
    for ident in (
        "soviet_intervention",
        "third_army_destroyed_outcome",
        "strategic_exchange",
        "unresolved",
    ):
        assert outcomes[ident]["count"] == 0, ident
