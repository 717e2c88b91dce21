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
    ("DEFCON 3", "usa_raise_readiness", "1962-10-22"),
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
    ("reply to the first letter, secret Jupiter assurance",
     "usa_accept_first_letter_secret_jupiter", "1962-10-27"),
    ("public backdown", "ussr_public_acceptance", "1962-10-28"),
    ("Kuznetsov assures Stevenson", "ussr_assure_dismantling", "1962-10-30"),
    ("U Thant in Havana", "un_mediate_havana", "1962-10-30"),
    ("Castro refuses inspection", "cuba_refuse_inspection", "1962-10-30"),
    ("missiles counted at sea", "ussr_count_at_sea", "1962-11-07"),
    ("withdrawal of the 42 missiles complete", "withdrawal_complete", "1962-11-10"),
    ("US presses on the IL-28s", "usa_press_il28", "1962-11-11"),
    ("threat of a tighter quarantine", "usa_threaten_tightening", "1962-11-16"),
    ("Castro agrees to release the IL-28s", "cuba_release_il28", "1962-11-19"),
    ("Khrushchev tells Kennedy the IL-28s will go", "ussr_agree_remove_il28", "1962-11-20"),
    ("quarantine lifted", "usa_lift_quarantine", "1962-11-20"),
    ("Soviet readiness measures cancelled", "ussr_cancel_readiness", "1962-11-21"),
]


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return [e.to_json() for e in replay(load_scenario("cuba-1962")).entries]


@pytest.mark.parametrize(("what", "ident", "date"), RECORD, ids=[r[0] for r in RECORD])
def test_documented_step_on_its_date(events: list[dict[str, Any]], what: str, ident: str,
                                     date: str) -> None:
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
        ident = entry.action or entry.event
        assert (ident, entry.date.isoformat()) in played, f"{ident} on {entry.date}"
