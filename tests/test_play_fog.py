"""Fog of war over every string an actor is shown, not only the variables.

The property: take any position a game can reach, and change everything one actor
cannot observe there (hidden variables, the actions of others it did not see, the events
it did not witness); every word the game shows that actor (the briefing: facts, news,
letters, proposals, options and why they are unavailable; and the news of the turn just
played) stays the same. A string that leaked a hidden fact would change with it.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from crisislab.agents.historical import HistoricalAgent
from crisislab.engine.state import BatchState
from crisislab.play.briefing import brief
from crisislab.play.letters import terms
from crisislab.play.session import GameSetup, Session
from crisislab.play.tui import ERASE_SCROLLBACK, Terminal
from crisislab.play.words import plain, quantity
from crisislab.scenario.loader import load_scenario

from .strategies import seeds

CUBA = load_scenario("cuba-1962")
MINI = Path(__file__).parent / "data" / "mini.yaml"


def scrambled(session: Session, observer: str, rng: np.random.Generator) -> BatchState:
    """A copy of the session's state with everything ``observer`` cannot see redrawn."""
    sc = session.scenario
    state = session.state.select(np.array([0]))
    obs = session.engine.observe(session.state, observer)
    for v in sc.variables:
        if v.id in obs.values and bool(obs.known[v.id][0]):
            continue
        if v.type in ("bool", "enum", "int"):
            value = float(rng.integers(int(v.low), int(v.high) + 1))
        else:
            value = float(rng.uniform(v.low, v.high))
        state.values[v.index, 0] = value
    last = {a: c.copy() for a, c in state.last_actions.items()}
    for actor, chosen in last.items():
        rules = session.engine.actions_by_actor[actor]
        unseen = [r.local for r in rules if observer not in r.seen_by]
        if (
            actor != observer
            and unseen
            and (chosen[0] < 0 or observer not in rules[chosen[0]].seen_by)
        ):
            chosen[0] = int(rng.choice(unseen))
    state.last_actions = last
    for e in sc.events:
        if observer not in e.seen_by:
            state.last_events[e.index, 0] = bool(rng.integers(0, 2))
    return state


def shown(session: Session, observer: str, turn: int, previous: dict[str, float]) -> list[str]:
    """Every string the game shows ``observer`` now."""
    b = brief(session, observer)
    news = [n.text for n in session.news_since(observer, turn, previous)]
    return [b.text(), *news, *(o.reason for o in b.options), *b.commitments]


def games(max_turns: int = 70) -> st.SearchStrategy[tuple[Session, int, dict[str, Any]]]:
    """A game of cuba-1962 in which people hold some seats and play any legal moves and
    letters, stopped at any turn; with the turn last played and the snapshot before it."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[Session, int, dict[str, Any]]:
        start = draw(st.sampled_from([None, CUBA.clock.first_of_phase("crisis")]))
        players = [a for a in CUBA.players if CUBA.role(a) == "player"]
        # people in some seats (at least one), the historical agent in the others, so
        # that agents' moves and their answers to letters are covered too
        humans = draw(st.lists(st.sampled_from(players), min_size=1, unique=True))
        seats = {a: "human" if a in humans else "historical" for a in players}
        chance = draw(st.sampled_from(["free", "history"]))
        s = Session.new(CUBA, GameSetup("cuba-1962", draw(seeds), seats, chance, start))
        record = {a: HistoricalAgent(CUBA, a) for a in humans}
        turns = draw(st.integers(min_value=1, max_value=max_turns))
        last, previous = s.turn, s._snapshot()
        for _ in range(turns):
            if s.done:
                break
            choices = {}
            for actor in humans:
                legal, _ = s.availability(actor)
                obs = s.observe(actor)
                along = obs.actions[int(record[actor].act(obs)[0])]
                # mostly along the record (to reach the crisis), sometimes anything legal
                if draw(st.integers(0, 3)) == 0:
                    along = draw(st.sampled_from(sorted(a for a, ok in legal.items() if ok)))
                choices[actor] = along
            drafts = []
            if draw(st.integers(0, 5)) == 0:
                sender = draw(st.sampled_from(sorted(humans)))
                to = draw(st.sampled_from([a for a in CUBA.actors if a != sender]))
                drafts.append(
                    {
                        "sender": sender,
                        "to": to,
                        "public": draw(st.booleans()),
                        "terms": draw(
                            st.lists(st.sampled_from(sorted(terms(CUBA))), max_size=2, unique=True)
                        ),
                        "text": "letter text",
                        "reply_to": None,
                        "stance": "",
                    }
                )
            last, previous = s.turn, s._snapshot()
            s.play_turn(choices, drafts)
        return s, last, previous

    return build()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=games(), observer=st.sampled_from(CUBA.actors), salt=seeds)
def test_nothing_an_actor_cannot_observe_changes_what_it_is_shown(
    game: tuple[Session, int, dict[str, Any]], observer: str, salt: int
) -> None:
    session, turn, previous = game
    before = shown(session, observer, turn, previous[observer])
    real = session.state
    try:
        for k in range(3):
            session.state = scrambled(session, observer, np.random.default_rng([salt, k]))
            assert shown(session, observer, turn, previous[observer]) == before
    finally:
        session.state = real


def test_the_scramble_does_change_what_the_state_holds() -> None:
    """The property is not vacuous: before discovery the US cannot see the missiles,
    and the scramble redraws them (and its briefing still does not move)."""
    s = Session.new(
        CUBA,
        GameSetup("cuba-1962", 0, {"usa": "human", "ussr": "human", "cuba": "human"}, "history"),
    )
    record = {a: HistoricalAgent(CUBA, a) for a in ("usa", "ussr", "cuba")}
    while not s.done and s.turn < CUBA.clock.first_of_phase("crisis") - 2:
        s.play_turn(
            {a: s.observe(a).actions[int(r.act(s.observe(a))[0])] for a, r in record.items()}, []
        )
    index = CUBA.variable("missiles_in_cuba").index
    changed = [scrambled(s, "usa", np.random.default_rng(k)).values[index, 0] for k in range(5)]
    assert not any(f.id == "missiles_in_cuba" for f in brief(s, "usa").intelligence)
    assert len(set(changed)) > 1


def test_the_us_reads_the_buildup_and_berlin_as_outsiders_and_counts_as_estimates() -> None:
    """Along the record: the Soviet moves the US sees are told in its words (no missile
    component, no purpose behind the Berlin pressure), and once found the missiles are
    given as intelligence estimates, never as the true count."""
    seats = {"usa": "human", "ussr": "historical", "cuba": "historical"}
    s = Session.new(CUBA, GameSetup("cuba-1962", 0, seats, "history"))
    us = HistoricalAgent(CUBA, "usa")
    texts, counts = [], []
    found_at = None
    while not s.done:
        b = brief(s, "usa")
        texts.append(b.text())
        counts += [f.value for f in b.intelligence if f.id == "missiles_in_cuba"]
        if found_at is None and counts:
            found_at = s.turn
        s.play_turn({"usa": s.observe("usa").actions[int(us.act(s.observe("usa"))[0])]}, [])
    every = "\n".join(texts)
    assert "Start shipping the deployment to Cuba. Soviet freighters" in every
    assert "Moscow stirs up incidents and renews its demands" in every
    for secret in (
        "missiles themselves",
        "missile_phase_start",
        "divert attention",
        "hold a hostage",
        "gain time",
        "may believe war has begun",
    ):
        assert secret not in every
    assert found_at is not None
    # and in plain words: no parameter's name on screen, its value instead
    assert not [p for p in CUBA.parameters if p in every]
    assert "a day and a half after the announcement" in every  # quarantine_lead_days
    assert any("33 missiles located (an intelligence estimate" in c for c in counts)
    assert not any(c.startswith("42") for c in counts)
    # the Soviet seat still reads its own orders in full
    assert "the missiles themselves" in " ".join(
        CUBA.action("ussr_start_buildup").summary_for("ussr").split()
    )


def test_hot_seat_wipes_the_screen_and_the_scrollback_before_the_keyboard_passes() -> None:
    seats = {"usa": "human", "ussr": "human", "cuba": "historical"}
    s = Session.new(CUBA, GameSetup("cuba-1962", 0, seats, "history"))
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    t = Terminal(s, console, clear=False, ask=lambda prompt: "")  # --no-clear too
    t._handover("ussr")
    text = out.getvalue()
    wipe = text.index(ERASE_SCROLLBACK)
    assert "\x1b[2J" in text[:wipe]  # the screen, then the saved lines
    assert wipe < text.index("Pass the keyboard to the player of")


def test_seen_as_words_go_to_observers_only() -> None:
    """``seen_as`` gives an observer other words; an actor that does not see the step,
    or the acting actor itself, cannot be given any."""
    from crisislab.scenario.loader import load_text
    from crisislab.scenario.problems import ScenarioError

    text = MINI.read_text(encoding="utf-8")
    private = "    visibility: private\n    escalation: 2\n"
    assert text.count(private) == 1
    ok = load_text(
        text.replace(
            private,
            "    visibility: [blue]\n    seen_as: {others: "
            "Ships sail for Red.}\n    escalation: 2\n",
        )
    )
    deploy = ok.action("red_deploy")
    assert deploy.summary_for("blue") == "Ships sail for Red."
    assert deploy.summary_for("red") == "Red ships more weapons."
    for who in ("blue", "red"):
        with pytest.raises(ScenarioError, match=f"'{who}' is not one of the others who see"):
            load_text(
                text.replace(
                    private,
                    f"    visibility: private\n    seen_as: "
                    f"{{{who}: Ships sail.}}\n    escalation: 2\n",
                )
            )


@pytest.mark.parametrize(
    ("value", "unit", "words"),
    [
        (3.0, "turns", "3 turns"),
        (75.0, "percent", "75%"),
        (3.0, "missiles/day", "3 missiles a day"),
        (0.45, None, "45%"),
        (2.0, None, "2"),
        (0.5, "days", "0.5 days"),
    ],
)
def test_parameters_read_as_quantities(value: float, unit: str | None, words: str) -> None:
    assert quantity(value, unit) == words
    sc = replace(CUBA, parameters={**CUBA.parameters, "x_rate": value})
    # a parameter the file does not give a unit reads as a bare quantity; a longer name
    # that merely starts like it is left alone
    assert (
        plain("at  x_rate\n now, not x_rates", sc) == f"at {quantity(value, None)} now, not x_rates"
    )
