"""The terminal's briefing, laid out once per content and reused, prints exactly what
printing it afresh prints."""

from __future__ import annotations

import io

from rich.console import Console

from crisislab.play.briefing import brief
from crisislab.play.session import GameSetup, Session
from crisislab.play.tui import Terminal, _facts, _options
from crisislab.scenario.loader import load_scenario


def _console() -> Console:
    return Console(
        file=io.StringIO(),
        width=120,
        highlight=False,
        force_terminal=True,
        color_system="truecolor",
    )


def test_reused_layouts_print_what_a_fresh_layout_prints() -> None:
    sc = load_scenario("cuba-1962")
    seats = {
        a: ("human" if a == "usa" else "historical") for a in sc.players if sc.role(a) == "player"
    }
    session = Session.new(sc, GameSetup("cuba-1962", 2, seats))
    terminal = Terminal(session, _console(), clear=False)
    shown = set()
    for _ in range(12):
        b = brief(session, "usa")
        for _ in range(2):  # laid out, then reused
            fresh, cached = _console(), terminal.console
            cached.file = io.StringIO()
            fresh.print(_options(b))
            fresh.print(_facts("The world as you see it", b.world))
            terminal._print_laid_out(("options", tuple(b.options)), lambda b=b: _options(b))
            terminal._facts("The world as you see it", b.world)
            assert cached.file.getvalue() == fresh.file.getvalue()  # type: ignore[attr-defined]
            shown.add(fresh.file.getvalue())  # type: ignore[attr-defined]
        session.play_turn({"usa": sc.default_action("usa").id}, [])
    assert len(shown) > 1  # the briefings changed over the turns, and so did the print
