"""The replay of cuba-1962 holds every documented step the record requires, on its date."""

from __future__ import annotations

from typing import Any

import pytest

from crisislab.replay import replay
from crisislab.scenario.loader import load_scenario

# (what the record says, replay id, date) — the events the core issue names, and the
# well-documented facts beyond the seeds it asks for.
RECORD = [
    ("Soviet decision to deploy", "ussr_decide_deploy", "1962-05-24"),
    ("Soviet communique on military aid", "ussr_public_statement", "1962-09-02"),
    ("Kennedy's warning", "usa_public_warning", "1962-09-04"),
    ("request to call up reservists", "usa_call_reservists", "1962-09-07"),
    ("Soviet statement of 11 September", "ussr_public_statement", "1962-09-11"),
    ("U-2 discovery", "u2_discovers_missiles", "1962-10-14"),
    ("ExComm convened", "usa_convene_excomm", "1962-10-16"),
    ("address and quarantine announced", "usa_announce_quarantine", "1962-10-22"),
    ("DEFCON 3 with the address", "usa_announce_quarantine", "1962-10-22"),
    ("Soviet statement", "ussr_public_statement", "1962-10-23"),
    ("Soviet readiness measures", "ussr_raise_readiness", "1962-10-23"),
    ("quarantine in force", "quarantine_takes_effect", "1962-10-24"),
    ("SAC at DEFCON 2", "usa_raise_readiness", "1962-10-24"),
    ("ships turn back", "ussr_turn_back_ships", "1962-10-24"),
    ("Khrushchev's call for a summit", "ussr_call_summit", "1962-10-24"),
    ("U Thant's appeal", "un_appeal_standstill", "1962-10-24"),
    ("Khrushchev accepts the appeal", "ussr_accept_thant_appeal", "1962-10-25"),
    ("first (private) letter", "ussr_private_letter", "1962-10-26"),
    ("Castro orders fire on low-level flights", "cuba_order_aa_fire", "1962-10-26"),
    ("second (public) letter", "ussr_public_letter", "1962-10-27"),
    ("U-2 shot down over Cuba", "u2_shootdown", "1962-10-27"),
    ("U-2 strays over the USSR", "stray_u2", "1962-10-27"),
    ("low-level reconnaissance fired on", "low_level_fired_on", "1962-10-27"),
    ("submarine forced to surface", "submarine_incident", "1962-10-27"),
    (
        "reply to the first letter, secret Jupiter assurance",
        "usa_accept_first_letter_secret_jupiter",
        "1962-10-27",
    ),
    ("public backdown", "ussr_public_acceptance", "1962-10-28"),
    ("Kuznetsov assures Stevenson", "ussr_assure_dismantling", "1962-10-30"),
    ("U Thant in Havana", "un_mediate_havana", "1962-10-30"),
    ("Castro refuses inspection", "cuba_refuse_inspection", "1962-10-30"),
    ("missiles counted at sea", "ussr_count_at_sea", "1962-11-07"),
    ("withdrawal of the 42 missiles complete", "withdrawal_complete", "1962-11-10"),
    ("US presses on the IL-28s", "usa_press_il28", "1962-11-02"),
    ("threat of a tighter quarantine", "usa_threaten_tightening", "1962-11-16"),
    ("Castro agrees to release the IL-28s", "cuba_release_il28", "1962-11-19"),
    ("Khrushchev tells Kennedy the IL-28s will go", "ussr_agree_remove_il28", "1962-11-20"),
    ("quarantine lifted", "usa_lift_quarantine", "1962-11-20"),
    ("Soviet readiness measures cancelled", "ussr_cancel_readiness", "1962-11-21"),
]


# (what a historian expects, who the chronicle names, date): the record that is no model
# choice, told as narrative entries of the track, and the epilogue after the clock.
NARRATIVE = [
    ("Gromyko with Kennedy", "Gromyko and Kennedy", "1962-10-18"),
    ("the quarantine decision", "Kennedy", "1962-10-20"),
    ("the OAS endorses the quarantine", "the Organization of American States", "1962-10-23"),
    ("Proclamation 3504", "Kennedy", "1962-10-23"),
    ("Stevenson and Zorin at the Security Council", "Stevenson and Zorin", "1962-10-25"),
    ("Scali and Fomin", "Scali and Fomin", "1962-10-26"),
    ("Castro's letter to Khrushchev", "Castro", "1962-10-26"),
    ("Robert Kennedy and Dobrynin", "Robert Kennedy and Dobrynin", "1962-10-27"),
    ("Mikoyan in Havana", "Mikoyan", "1962-11-02"),
]
EPILOGUE = [
    ("the IL-28s leave", "1962-12-01"),
    ("the last Jupiter in Turkey comes down", "1963-04-24"),
    ("the hotline agreement", "1963-06-20"),
    ("the Partial Test Ban Treaty", "1963-08-05"),
]


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    return replay(load_scenario("cuba-1962")).to_json()


@pytest.fixture(scope="module")
def events(record: dict[str, Any]) -> list[dict[str, Any]]:
    return list(record["events"])


@pytest.mark.parametrize(("what", "ident", "date"), RECORD, ids=[r[0] for r in RECORD])
def test_documented_step_on_its_date(
    events: list[dict[str, Any]], what: str, ident: str, date: str
) -> None:
    hits = [e for e in events if e["id"] == ident and e["date"] == date]
    assert hits, f"{what}: no '{ident}' on {date}"
    assert all(e["documented"] and e["citations"] for e in hits)


def test_the_record_ends_in_the_settlement(events: list[dict[str, Any]]) -> None:
    last = events[-1]
    assert (last["kind"], last["id"], last["date"]) == ("outcome", "settlement", "1962-11-21")


def test_every_track_entry_is_played(events: list[dict[str, Any]]) -> None:
    sc = load_scenario("cuba-1962")
    played = {(e["id"], e["date"]) for e in events if e["documented"]}
    for entry in sc.spec.history:
        if entry.narrative:  # told, never played
            continue
        ident = entry.action or entry.event
        assert (ident, entry.date.isoformat()) in played, f"{ident} on {entry.date}"


@pytest.mark.parametrize(("what", "who", "date"), NARRATIVE, ids=[n[0] for n in NARRATIVE])
def test_narrative_entry_on_its_date(
    events: list[dict[str, Any]], what: str, who: str, date: str
) -> None:
    hits = [e for e in events if e["kind"] == "record" and e["who"] == who and e["date"] == date]
    assert hits, f"{what}: nothing by {who} on {date}"
    assert all(e["citations"] and e["id"] is None and not e["changes"] for e in hits)


@pytest.mark.parametrize(("what", "date"), EPILOGUE, ids=[n[0] for n in EPILOGUE])
def test_the_epilogue(record: dict[str, Any], what: str, date: str) -> None:
    assert date in [e["date"] for e in record["epilogue"]], what
    assert all(e["date"] > record["end_date"] for e in record["epilogue"])


def test_prologue_lines_carry_their_own_dates(events: list[dict[str, Any]]) -> None:
    """In the weekly prologue a documented line shows the day it happened, not the first
    day of its week: Kennedy's warning on 4 September sits in the week of 30 August."""
    own = {(e["id"], e["date"]) for e in events if e["documented"]}
    for ident, date in [
        ("usa_public_warning", "1962-09-04"),
        ("usa_call_reservists", "1962-09-07"),
        ("ussr_public_statement", "1962-09-11"),
        ("ussr_public_statement", "1962-09-21"),
    ]:
        assert (ident, date) in own
    weeks = {e["date"] for e in events if e["phase"] == "prologue" and not e["dated"]}
    assert not weeks & {"1962-09-04", "1962-09-07", "1962-09-11", "1962-09-21"}


def test_defcon_3_comes_with_the_evening_address(events: list[dict[str, Any]]) -> None:
    address = next(e for e in events if e["id"] == "usa_announce_quarantine")
    assert (address["date"], address["half"]) == ("1962-10-22", "pm")
    defcon = [c for c in address["changes"] if c["variable"] == "us_defcon"]
    assert [(c["before"], c["after"]) for c in defcon] == [("DEFCON 5", "DEFCON 3")]
    earlier = [
        e
        for e in events
        if e["date"] < "1962-10-22" or (e["date"] == "1962-10-22" and e["half"] == "am")
    ]
    assert not any(c["variable"] == "us_defcon" for e in earlier for c in e["changes"])


def test_no_missile_leaves_cuba_before_november(events: list[dict[str, Any]]) -> None:
    shipped = [
        e["date"]
        for e in events
        for c in e["changes"]
        if c["variable"] == "missiles_withdrawn" and c["after_value"] > c["before_value"]
    ]
    assert shipped and min(shipped) >= "1962-11-05"
    assert max(shipped) == "1962-11-10"
    dismantling = [e["date"] for e in events if e["id"] == "missiles_dismantled"]
    assert min(dismantling) == "1962-10-28" and max(dismantling) <= min(shipped)


def test_anderson_was_shot_down_by_a_soviet_battery(events: list[dict[str, Any]]) -> None:
    shot = next(e for e in events if e["id"] == "u2_shootdown" and e["documented"])
    assert shot["who"] == "a Soviet SA-2 battery"
    assert "Soviet" in shot["summary"] and "Cuban" not in shot["summary"]


def test_the_security_council_never_voted(events: list[dict[str, Any]]) -> None:
    oas = next(e for e in events if e["who"] == "the Organization of American States")
    assert oas["date"] == "1962-10-23" and "never comes to a vote" in oas["summary"]
    text = " ".join(e["summary"] for e in events).lower()
    assert "un condemns" not in text and "security council votes" not in text
