"""The clock: phases cut into turns, dates placed on turns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.scenario.loader import load_scenario

MINI = load_scenario(Path(__file__).parent / "data" / "mini.yaml")
CUBA = load_scenario("cuba-1962")


def test_turns_of_the_toy_clock() -> None:
    labels = [t.label for t in MINI.clock.turns]
    assert labels[:4] == ["1962-10-01", "1962-10-02", "1962-10-03 am", "1962-10-03 pm"]
    assert len(labels) == 2 + 4 * 2


def test_evening_turn_and_day_offsets() -> None:
    t = MINI.clock.turn_of(dt.date(1962, 10, 4), "pm")
    assert t is not None
    turn = MINI.clock.turns[t]
    assert (turn.date, turn.half, turn.day, turn.step_days) == (
        dt.date(1962, 10, 4),
        "pm",
        3.5,
        0.5,
    )
    assert MINI.clock.turn_of(dt.date(1962, 9, 30)) is None
    assert MINI.clock.turn_of(dt.date(1962, 10, 7)) is None


def test_a_weekly_turn_never_spills_into_the_next_phase() -> None:
    sc = CUBA
    crisis = sc.clock.first_of_phase("crisis")
    last_prologue = sc.clock.turns[crisis - 1]
    assert last_prologue.day + last_prologue.step_days == sc.clock.turns[crisis].day
    assert sc.clock.turn_of(dt.date(1962, 10, 14)) == crisis


@settings(max_examples=300, deadline=None)
@given(days=st.integers(min_value=0, max_value=200), pm=st.booleans())
def test_turns_tile_the_calendar(days: int, pm: bool) -> None:
    """Every instant of the clock's span belongs to exactly one turn, in order."""
    sc = CUBA
    date = sc.clock.epoch + dt.timedelta(days=days)
    t = sc.clock.turn_of(date, "pm" if pm else None)
    end = sc.clock.turns[-1]
    if date > end.date:
        assert t is None
        return
    assert t is not None
    turn = sc.clock.turns[t]
    offset = days + (0.5 if pm and turn.half else 0.0)
    assert turn.day <= offset < turn.day + turn.step_days
    for earlier in sc.clock.turns[:t]:
        assert earlier.day + earlier.step_days <= turn.day + 1e-9
