"""The debrief on the reference scenario: the record, and an air strike."""

from __future__ import annotations

from crisislab.agents.historical import HistoricalAgent
from crisislab.play.briefing import brief, label_of
from crisislab.play.debrief import build
from crisislab.play.session import GameSetup, Session
from crisislab.replay import replay
from crisislab.scenario.loader import load_scenario

CUBA = load_scenario("cuba-1962")
SEATS = {"usa": "human", "ussr": "historical", "cuba": "historical"}


def game(strike: bool) -> tuple[Session, int | None, int | None]:
    """Follow the record as the US; with ``strike``, order the air strike as soon as it
    is available (convening ExComm first if the record has not). Returns the session,
    the strike's turn and the turn of the first choice off the record."""
    assert CUBA is not None
    s = Session.new(CUBA, GameSetup("cuba-1962", 0, SEATS, "history"))
    us = HistoricalAgent(CUBA, "usa")
    strike_turn = first_off = None
    while not s.done:
        legal, _ = s.availability("usa")
        obs = s.observe("usa")
        choice = record = obs.actions[int(us.act(obs)[0])]
        if strike and strike_turn is None:
            if legal["usa_air_strike"]:
                choice, strike_turn = "usa_air_strike", s.turn
            elif legal["usa_convene_excomm"]:
                choice = "usa_convene_excomm"
        if choice != record and first_off is None:
            first_off = s.turn
        s.play_turn({"usa": choice}, [])
    return s, strike_turn, first_off


def test_the_us_briefing_hides_the_missiles_until_they_are_found() -> None:
    assert CUBA is not None
    s = Session.new(CUBA, GameSetup("cuba-1962", 0, SEATS, "history"))
    label = label_of(CUBA.variable("missiles_in_cuba"), CUBA)
    us = HistoricalAgent(CUBA, "usa")
    shown = []
    while not s.done and s.turn < CUBA.clock.first_of_phase("crisis") + 6:
        text = brief(s, "usa").text()
        found = bool(s.state.values[CUBA.variable("missiles_detected").index, 0])
        shown.append((found, label in text))
        obs = s.observe("usa")
        s.play_turn({"usa": obs.actions[int(us.act(obs)[0])]}, [])
    assert all(seen == found for found, seen in shown)
    assert (False, False) in shown and (True, True) in shown
    assert label in brief(s, "ussr").text()


def test_a_game_along_the_record_has_no_divergence_and_the_historical_outcome() -> None:
    s, _, off = game(strike=False)
    assert off is None
    d = build(s, runs=100)
    assert d.first_divergence is None
    assert s.outcome == replay(CUBA).outcome == d.history_outcome  # type: ignore[arg-type]
    assert d.curve_game == d.curve_history


def test_an_air_strike_diverges_on_its_date_and_moves_the_odds() -> None:
    s, turn, first_off = game(strike=True)
    assert turn is not None
    d = build(s, runs=300)
    assert d.first_divergence is not None and d.first_divergence.turn == first_off
    assert d.first_divergence.cause == "your choice (United States)"
    x = next(x for x in d.decisions if x.turn == turn)
    assert x.choice == "usa_air_strike" and x.alternative != "usa_air_strike"
    assert x.alternative_after.counts != x.after.counts
    war = ("air_strike", "invasion", "conventional_war", "tactical_nuclear", "strategic_exchange")
    assert sum(x.after.counts.get(k, 0) for k in war) > sum(
        x.alternative_after.counts.get(k, 0) for k in war
    )
    # the air strike itself is an outcome the record's choice never reaches that turn
    assert x.effect["air_strike"].low > 0
