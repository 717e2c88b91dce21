"""Games people played as a tournament's entrant: scripted games saved by `crisislab play
--moves`, then ranked beside agents with the same scores, odds and letters measures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crisislab.analysis.escalation import score_trace
from crisislab.cli import app
from crisislab.play.session import GameSetup, Session
from crisislab.scenario.loader import load_scenario
from crisislab.store import Store

MOVES = {
    "record": "- follow: end\n",
    "strike": "- follow: 1962-10-22\n- choose: usa_air_strike\n- follow: end\n",
    "letter": (
        "- follow: 1962-10-20\n- choose: usa_wait\n  letter: {to: ussr, private: true, "
        'ask: [withdrawal], offer: [noninvasion], text: "Remove them."}\n'
        "- follow: end\n"
    ),
    "unfinished": "- follow: 1962-10-18\n",
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, dict[str, Any]]]:
    """Four scripted games of the American seat in one database: three finished, one
    not; each game's `play --format json` document by name."""
    folder = tmp_path_factory.mktemp("games")
    db = f"sqlite:///{folder / 'games.db'}"
    docs = {}
    for name, text in MOVES.items():
        path = folder / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        code, output = run(
            "play",
            "cuba-1962",
            "--as",
            "usa",
            "--moves",
            str(path),
            "--seed",
            "2",
            "--db",
            db,
            "--format",
            "json",
        )
        assert code == 0, output
        docs[name] = json.loads(output)
    return db, docs


def tournament(db: str, *entrants: str, seat: str = "usa") -> tuple[int, str]:
    args = [
        "tournament",
        "cuba-1962",
        "--seat",
        seat,
        "--runs",
        "4",
        "--seed",
        "1",
        "--opponents",
        "historical",
        "--no-store",
        "--db",
        db,
        "--workers",
        "1",
    ]
    for e in entrants:
        args += ["--entrant", e]
    return run(*args, "--format", "json")


def rebuilt(db: str, game_id: int) -> Session:
    """A saved game, rebuilt by the game itself."""
    store = Store(db)
    found = store.checked_game(game_id)
    assert found is not None
    log = found[1].log()
    sc = load_scenario("cuba-1962")
    return Session.rebuild(sc, GameSetup.from_json(log[0]["setup"]), log[1:])


def choices(db: str, game_id: int) -> list[str]:
    """The American choice of every turn of a saved game."""
    return [t.choices["usa"] for t in rebuilt(db, game_id).traces]


def letters(db: str, game_id: int) -> int:
    """The American letters of a game: the scenario's messages its actions sent (each
    once) and the letters the person wrote."""
    session = rebuilt(db, game_id)
    sends = {
        t.choices["usa"]
        for t in session.traces
        if session.scenario.action(t.choices["usa"]).sends is not None
    }
    return len(sends) + sum(1 for x in session.letters if x.sender == "usa")


def test_the_finished_games_are_an_entrant_with_their_counts(played: Any) -> None:
    db, docs = played
    code, text = tournament(db, "people=games", "hawk=hawk")
    assert code == 0, text
    assert "left out game 4: it is not finished" in text  # the note, on stderr
    doc = json.loads(text[text.index("{") :])
    people = next(r for r in doc["entrants"] if r["entrant"] == "people")
    finished = [docs[k]["game_id"] for k in ("record", "strike", "letter")]
    assert people["kind"] == "people" and people["games"] == finished
    assert people["runs"] == 3
    # outcomes: as each game ended
    expected: dict[str, int] = {}
    for k in ("record", "strike", "letter"):
        expected[docs[k]["outcome"]] = expected.get(docs[k]["outcome"], 0) + 1
    assert {o: v["count"] for o, v in people["outcomes"].items() if v["count"]} == expected
    assert "air_strike" in expected
    # the score: the scale's weights summed over each game's own choices, by hand
    sc = load_scenario("cuba-1962")
    scores = [score_trace(sc, "usa", choices(db, g)) for g in finished]
    assert people["score"]["per_turn"] == pytest.approx(
        sum(s.per_turn for s in scores) / 3, rel=1e-12
    )
    assert people["score"]["total"] == pytest.approx(sum(s.total for s in scores) / 3)
    low, high = people["score"]["per_turn_low"], people["score"]["per_turn_high"]
    assert min(s.per_turn for s in scores) <= low <= high <= max(s.per_turn for s in scores)
    # the air strike game is the only one that leaves the record's choices in October
    firsts = {f["game"]: f["first_departure"] for f in people["record"]["by_opponents"]}
    strike = firsts[docs["strike"]["game_id"]]
    assert strike is not None and strike["instead"] == sc.action("usa_air_strike").label
    # letters: the person's own letter counts beside the scenario's messages sent
    said = people["said_vs_did"]
    assert said["letters"] == sum(letters(db, g) for g in finished)
    assert letters(db, docs["letter"]["game_id"]) > letters(db, docs["record"]["game_id"])
    assert people["by_opponents"] == [
        {
            "opponents": "historical",
            "runs": 3,
            "games": finished,
            "outcomes": people["by_opponents"][0]["outcomes"],
        }
    ]
    hawk = next(r for r in doc["entrants"] if r["entrant"] == "hawk")
    assert hawk["kind"] == "agent" and hawk["runs"] == 4


def test_listed_games_and_their_letters(played: Any) -> None:
    db, docs = played
    strike, letter = docs["strike"]["game_id"], docs["letter"]["game_id"]
    code, text = tournament(db, f"one=games:{strike}", f"writer=games:{letter}")
    assert code == 0, text
    rows = {r["entrant"]: r for r in json.loads(text)["entrants"]}
    assert rows["one"]["runs"] == 1 and rows["one"]["outcomes"]["air_strike"]["count"] == 1
    assert rows["one"]["score"]["per_turn_low"] == rows["one"]["score"]["per_turn_high"]
    said = rows["writer"]["said_vs_did"]
    # the letter asks for withdrawal and offers the pledge; the record's answer follows,
    # the pledge among it, and the quarantine after it is an escalation
    assert said["offering"] >= 1
    assert said["kept_terms"] is not None and said["kept_terms"]["p"] == 1.0
    assert said["escalation_after_offer"] is not None
    assert said["escalation_after_offer"]["count"] >= 1


def test_the_leaderboard_labels_peoples_play(played: Any) -> None:
    db, _ = played
    code, text = run(
        "tournament",
        "cuba-1962",
        "--seat",
        "usa",
        "--entrant",
        "class=games",
        "--runs",
        "2",
        "--no-store",
        "--db",
        db,
        "--workers",
        "1",
    )
    assert code == 0, text
    assert "class (people's play, 3 games)" in text
    assert "Said and did" in text and "only 3 games" in text


@pytest.mark.parametrize(
    ("entrant", "seat", "words"),
    [
        ("p=games:99", "usa", "there is no game 99"),
        ("p=games:1", "ussr", "nobody played ussr in game 1"),
        ("p=games:4", "usa", "is not finished"),
        ("p=games:x", "usa", "should list game ids"),
        ("p=games:5-3", "usa", "should list game ids"),
        ("p=games", "ussr", "no finished game of cuba-1962"),
    ],
    ids=["missing", "other-seat", "unfinished", "not-an-id", "backwards", "none-in-seat"],
)
def test_games_that_cannot_count_are_refused(
    played: Any, entrant: str, seat: str, words: str
) -> None:
    db, _ = played
    code, text = tournament(db, entrant, seat=seat)
    assert code == 2, text
    assert words in text and "Traceback" not in text


def test_a_game_on_another_version_is_refused(played: Any, tmp_path: Path) -> None:
    db, _ = played
    store = Store(db)
    row = store.game(1)
    assert row is not None
    row.content_hash = "0" * 64
    other = f"sqlite:///{tmp_path / 'other.db'}"
    Store(other).add_game(
        **{c.name: getattr(row, c.name) for c in row.__table__.columns if c.name != "id"}
    )
    code, text = tournament(other, "p=games:1")
    assert code == 2, text
    assert "another version of cuba-1962" in text
