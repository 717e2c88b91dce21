"""Scripted play, end to end in-process: ``crisislab play --moves`` and the debrief that
weighs each choice against the record's on the same simulated crises."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crisislab.cli import app
from crisislab.play.debrief import newcombe_paired, wilson
from crisislab.replay import replay
from crisislab.scenario.loader import load_scenario
from crisislab.store import Store

MINI = Path(__file__).parent / "data" / "mini.yaml"
WARNING = """\
- follow: 1962-05-31
- choose: usa_public_warning
- choose: usa_wait
  letter: {to: ussr, private: true, ask: [withdrawal], offer: [], text: "Remove them."}
- follow: end
"""


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "games.db"
    monkeypatch.setenv("CRISISLAB_DB", str(path))
    return path


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def play(tmp_path: Path, moves: str, *args: str, name: str = "moves.yaml") -> Any:
    path = tmp_path / name
    path.write_text(moves, encoding="utf-8")
    return cli("play", *args, "--moves", str(path), "--format", "json")


def test_a_scripted_game_is_played_saved_and_debriefed(tmp_path: Path, db: Path) -> None:
    r = play(tmp_path, WARNING, "cuba-1962", "--as", "usa", "--seed", "3")
    assert r.exit_code == 0, r.output
    game = json.loads(r.stdout)
    assert game["finished"] and game["outcome"] and game["moves_unused"] == 0
    assert (
        game["end_date"] == load_scenario("cuba-1962").clock.turns[game["turns_played"] - 1].label
    )
    dates = [e["date"] for e in game["events"]]
    assert dates[0] == "week of 1962-05-24"
    warning = next(e for e in game["events"] if e["id"] == "usa_public_warning")
    assert warning["date"] == "week of 1962-06-07"  # the turn after 31 May's
    # saved like any game: the store has it, finished, with the letter
    row = Store(f"sqlite:///{db}").game(game["game_id"])
    assert row is not None and row.status == "finished" and row.outcome == game["outcome"]
    assert row.letters[0]["terms"] == ["withdrawal"] and row.letters[0]["to"] == "ussr"
    # the same file and seed play the same crisis
    again = json.loads(play(tmp_path, WARNING, "cuba-1962", "--as", "usa", "--seed", "3").stdout)
    assert again["game_id"] != game["game_id"]
    assert {k: v for k, v in again.items() if k != "game_id"} == {
        k: v for k, v in game.items() if k != "game_id"
    }
    # the debrief weighs the two choices; the followed turns are not decisions
    r = cli("debrief", str(game["game_id"]), "--format", "json", "--runs", "300")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [x["date"] for x in d["decisions"]][0] == "week of 1962-06-07"
    first = d["decisions"][0]
    assert first["choice"] == "usa_public_warning" and first["alternative"] == "usa_wait"
    assert "week of 1962-05-31" not in [x["date"] for x in d["decisions"]]
    for x in d["decisions"]:
        assert x["choice"] != x["alternative"]
        assert set(x["outcomes"]) == {o.id for o in load_scenario("cuba-1962").outcomes}
        for v in x["outcomes"].values():
            for key in ("before", "after", "alternative_after", "effect"):
                assert v[key]["low"] <= v[key]["p"] <= v[key]["high"]
            assert v["effect"]["p"] == pytest.approx(v["after"]["p"] - v["alternative_after"]["p"])
    assert sum(v["after"]["p"] for v in first["outcomes"].values()) == pytest.approx(1)


def test_following_to_the_end_is_the_record_and_has_no_decisions(tmp_path: Path, db: Path) -> None:
    page = tmp_path / "record.html"
    r = play(
        tmp_path,
        "- follow: end\n",
        str(MINI),
        "--as",
        "blue",
        "--chance",
        "history",
        "--html",
        str(page),
        "--debrief-runs",
        "50",
    )
    assert r.exit_code == 0, r.output
    assert "never left the record" in page.read_text(encoding="utf-8")
    game = json.loads(r.stdout)
    mini = load_scenario(MINI)
    record = replay(mini)
    assert game["outcome"] == record.outcome
    d = json.loads(cli("debrief", str(game["game_id"]), "--format", "json", "--runs", "100").stdout)
    assert d["decisions"] == [] and d["first_divergence"] is None


def test_a_choice_against_the_record_is_weighed_against_the_record(
    tmp_path: Path, db: Path
) -> None:
    moves = "- follow: 1962-10-02\n- choose: blue_wait\n- follow: end\n"
    r = play(tmp_path, moves, str(MINI), "--as", "blue", "--chance", "history")
    game = json.loads(r.stdout)
    d = json.loads(cli("debrief", str(game["game_id"]), "--format", "json", "--runs", "400").stdout)
    (x,) = d["decisions"]
    assert (x["date"], x["choice"], x["alternative"]) == (
        "1962-10-03 am",
        "blue_wait",
        "blue_blockade",
    )
    war = x["outcomes"]["war"]
    # no blockade now, so no clash at the line for a while: war is rarer after the
    # choice than after the record's, and the interval says the difference is real
    assert war["after"]["p"] < war["alternative_after"]["p"]
    assert war["effect"]["p"] == pytest.approx(war["after"]["p"] - war["alternative_after"]["p"])
    assert war["effect"]["high"] < 0
    page = tmp_path / "debrief.html"
    text = cli("debrief", str(game["game_id"]), "--runs", "100", "--html", str(page))
    assert "the record's choice was Blockade" in " ".join(text.stdout.split())
    html = " ".join(page.read_text(encoding="utf-8").split())
    assert "effect of your choice" in html
    assert "The alternative, the record&#39;s choice: Blockade" in html
    assert "Newcombe" in html


def test_moves_that_outlast_the_file_leave_a_game_to_resume(tmp_path: Path, db: Path) -> None:
    r = play(tmp_path, "- follow: 1962-10-01\n", str(MINI), "--as", "blue")
    game = json.loads(r.stdout)
    assert not game["finished"] and game["outcome"] is None and game["end_date"] is None
    row = Store(f"sqlite:///{db}").game(game["game_id"])
    assert row is not None and row.status == "running" and row.turn == 1


BAD = [
    ("usa_wait", "moves file should be a list", "follow: DATE"),
    ("- 3\n", "item 1 is 3, not a mapping", "choose: ACTION"),
    ("- follow: end\n- fllow: end\n", "item 2 has an unknown field 'fllow'", "follow, choose"),
    ("- follow: end\n  choose: usa_wait\n", "item 1 needs exactly one of", "follow"),
    ("- {}\n", "item 1 needs exactly one of", "follow"),
    (
        "- choose: usa_launch\n",
        "item 1, field 'choose': 'usa_launch' is not an action of usa",
        "usa_wait",
    ),
    ("- choose: ussr_accept_public\n", "is not an action of usa", "usa_wait"),
    ("- follow: 1962-13-01\n", "item 1, field 'follow': '1962-13-01' is not a date", "'end'"),
    ("- follow: 1961-01-01\n", "1961-01-01 is outside the scenario's clock", "1962-10-16"),
    ("- follow: 1962-10-22 noon\n", "has 'noon' where am or pm belongs", "'end'"),
    ("- follow: 2\n", "item 1, field 'follow': 2 is not a date", "'end'"),
    ("- follow: end\n  letter: {to: ussr}\n", "a letter goes with a 'choose' item", "'choose'"),
    ("- choose: usa_wait\n  letter: {to: usa}\n", "letter'.to: 'usa' is not a party", "ussr"),
    (
        "- choose: usa_wait\n  letter: {to: ussr, ask: [missiles]}\n",
        "letter'.ask: 'missiles' is not a term",
        "withdrawal",
    ),
    (
        "- choose: usa_wait\n  letter: {to: ussr, offer: jupiters, ask: [jupiters]}\n",
        "'jupiters' is both asked for and offered",
        "not both",
    ),
    (
        "- choose: usa_wait\n  letter: {to: ussr, private: maybe}\n",
        "letter'.private: 'maybe' is not true or false",
        "private: true",
    ),
    (
        "- choose: usa_wait\n  letter: {to: ussr, sign: JFK}\n",
        "letter' has an unknown field 'sign'",
        "ask, channel, offer",
    ),
    (
        '- choose: usa_wait\n  letter: {to: ussr, text: "' + "x" * 700 + '"}\n',
        "letter'.text: the text is 700 characters long",
        "shorten",
    ),
    (
        "- choose: usa_wait\n  letter: [{to: ussr}, {to: cuba}, {to: un}, {to: nato}]\n",
        "4 letters; a turn allows 3",
        "spread",
    ),
    ("- follow: end\n- *a\n", "uses a YAML alias", "in full"),
    ("- follow: [end\n", "is not valid YAML at line", "follow: DATE"),
    ("[" * 50_000 + "]" * 50_000, "nests lists or mappings too deeply", "follow: DATE"),
    # checked when their turn comes
    (
        "- choose: usa_air_strike\n",
        "item 1, field 'choose': usa_air_strike is not available on week of 1962-05-24",
        "follow the record",
    ),
    (
        "- follow: 1962-10-20\n- follow: 1962-10-16\n",
        "item 2, field 'follow': 1962-10-16 pm is already past",
        "later date",
    ),
]


@pytest.mark.parametrize(
    ("moves", "message", "hint"), BAD, ids=[f"bad-{i}" for i in range(len(BAD))]
)
def test_a_bad_moves_file_gets_a_clear_error(
    tmp_path: Path, db: Path, moves: str, message: str, hint: str
) -> None:
    r = play(tmp_path, moves, "cuba-1962", "--as", "usa")
    assert r.exit_code == 2
    said = " ".join(r.output.split())
    assert message in said and "fix: " in said and hint in said.split("fix:")[1], said
    assert "Traceback" not in said
    assert Store(f"sqlite:///{db}").games() == []  # nothing half-played is saved


def test_bad_json_and_missing_files_and_options(tmp_path: Path, db: Path) -> None:
    def said(r: Any) -> str:
        assert r.exit_code == 2
        return " ".join(r.output.split())

    r = play(tmp_path, '[{"follow": "end"},]', "cuba-1962", "--as", "usa", name="m.json")
    assert "m.json: the file is not valid JSON at line 1" in said(r)
    r = cli("play", "cuba-1962", "--as", "usa", "--moves", str(tmp_path / "none.yaml"))
    assert "none.yaml: there is no moves file there" in said(r)
    r = play(tmp_path, "- follow: end\n", "cuba-1962", "--as", "usa", "--as", "ussr")
    assert "give exactly one --as" in said(r)
    r = cli("play", "cuba-1962", "--as", "usa", "--format", "json")
    assert "--format json needs --moves" in said(r)


def test_a_json_moves_file_plays_like_yaml(tmp_path: Path, db: Path) -> None:
    moves = [{"follow": "1962-10-02"}, {"choose": "blue_wait"}, {"follow": "end"}]
    a = play(tmp_path, json.dumps(moves), str(MINI), "--as", "blue", name="m.json")
    b = play(
        tmp_path,
        "- follow: 1962-10-02\n- choose: blue_wait\n- follow: end\n",
        str(MINI),
        "--as",
        "blue",
    )
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert ja["events"] == jb["events"] and ja["outcome"] == jb["outcome"]


# ---- the paired interval ------------------------------------------------------------


def test_newcombe_reduces_to_the_difference_of_wilson_intervals_without_correlation() -> None:
    # a table with phi = 0 after correction: the interval is Newcombe's square-and-add of
    # the two Wilson intervals, computed here by hand
    a, b, c, d = 10, 10, 10, 10  # ad - bc = 0
    low, high = newcombe_paired(a, b, c, d)
    l1, u1 = wilson(20, 40)
    assert low == pytest.approx(0 - ((0.5 - l1) ** 2 + (u1 - 0.5) ** 2) ** 0.5)
    assert high == pytest.approx(-low)


@pytest.mark.parametrize(
    ("a", "b", "c", "d"),
    [(0, 0, 0, 500), (480, 0, 0, 20), (14, 5, 0, 22), (5, 0, 3, 100), (0, 7, 0, 0), (3, 9, 1, 2)],
)
def test_newcombe_interval_holds_the_estimate_and_mirrors(a: int, b: int, c: int, d: int) -> None:
    n = a + b + c + d
    low, high = newcombe_paired(a, b, c, d)
    assert -1 <= low <= (b - c) / n <= high <= 1
    mlow, mhigh = newcombe_paired(a, c, b, d)  # swap the members of each pair
    assert (mlow, mhigh) == pytest.approx((-high, -low))
    if b == c == 0:
        assert low < 0 < high  # no discordant pair: no effect seen, none excluded


def test_the_documented_moves_file_plays(tmp_path: Path, db: Path) -> None:
    """The example of docs/play.md, as written there, plays to the end."""
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "play.md").read_text("utf-8")
    (example,) = [
        b for b in re.findall(r"```yaml\n(.*?)```", doc, flags=re.S) if "follow: end" in b
    ]
    r = play(tmp_path, example, "cuba-1962", "--as", "usa")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["finished"]


def test_the_paired_runs_share_their_chance_crisis_by_crisis() -> None:
    """The premise of the effect: two runs onward from one state with the same seed meet
    the same chance in each crisis, even with a stand-in that draws chance; so with the
    same choice forced they end alike crisis by crisis, and a different seed does not."""
    from crisislab.agents.registry import make_agent
    from crisislab.play.debrief import _Forced
    from crisislab.play.session import GameSetup, Session
    from crisislab.runner import run_onward

    mini = load_scenario(MINI)
    s = Session.new(mini, GameSetup(str(MINI), 0, {"blue": "human", "red": "historical"}))
    s.play_turn({"blue": "blue_wait"}, [])
    local = s.observe("blue").actions.index("blue_wait")

    def run(seed: int) -> Any:
        agents = {
            "blue": _Forced(s.turn, local, make_agent("random", mini, "blue")),
            "red": make_agent("random", mini, "red"),
        }
        return run_onward(mini, s.state, agents, 400, seed=seed).outcome

    first, again, other = run(5), run(5), run(6)
    assert (first == again).all()
    assert (first != other).any()


def test_following_at_the_keyboard_is_not_a_decision_either() -> None:
    """`follow K` in the terminal marks its turns as followed, as a moves file does."""
    import io

    from rich.console import Console

    from crisislab.play.debrief import build
    from crisislab.play.session import GameSetup, Session
    from crisislab.play.tui import Terminal, play_loop

    mini = load_scenario(MINI)
    s = Session.new(
        mini, GameSetup(str(MINI), 0, {"blue": "human", "red": "historical"}, "history")
    )
    lines = iter(["follow 1000"] * 50)
    t = Terminal(s, Console(file=io.StringIO()), clear=False, ask=lambda _: next(lines))
    play_loop(s, t, lambda _: None)
    assert s.done and all(r.get("followed") == ["blue"] for r in s.log)
    assert build(s, runs=50).decisions == []
