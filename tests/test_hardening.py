"""Issue 12, each reproduction as a named test: markup-like text, files that are not files,
numbers out of range, a database found unusable before the work, stored rows that do not
parse, scenario semantics refused, the data folder and the RL environment's arguments.

Every command runs in-process through the ``crisislab`` app (whose command group turns
whatever escapes a command into a plain message and an exit code), so a traceback or an
internal error fails the test.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from crisislab.cli import app
from crisislab.scenario.loader import load_scenario, load_text
from crisislab.scenario.problems import ScenarioError
from crisislab.store import Store, default_url, shown_url

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "mini.yaml"
MINI_TEXT = MINI.read_text(encoding="utf-8")


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "crisislab.db"
    monkeypatch.setenv("CRISISLAB_DB", str(path))
    return path


def run(*args: str | Path, code: int | None = None) -> Any:
    """Run a command in-process; no traceback, no internal error, the exit code wanted."""
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    output = result.output
    assert "Traceback" not in output and "internal error" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    if code is not None:
        assert result.exit_code == code, output
    return result


def said(result: Any) -> str:
    return " ".join(result.output.split())


# ---- text that looks like markup ------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", MINI, "--what-if", "[/]", "--no-store"],
        ["simulate", MINI, "--agent", "red=[/x]", "--no-store"],
        ["simulate", MINI, "--param", "[/]=1", "--no-store"],
        ["replay", MINI, "--from", "[/]"],
        ["play", MINI, "--as", "[/]"],
        ["sources", "check", MINI, "--sources", "/tmp/[/]"],
        ["gt", "solve", "/tmp/[/].efg"],
        ["gt", "model", "[/]"],
    ],
    ids=["what-if", "agent", "param", "replay-from", "play-as", "sources", "gt-solve", "gt-model"],
)
def test_markup_like_text_in_an_option_is_printed_as_typed(db: Path, args: list[Any]) -> None:
    result = run(*args)
    assert result.exit_code in (1, 2)
    assert "[/" in result.output  # the user's text, shown as typed, not swallowed as markup
    assert result.output.lstrip().startswith("error:")


def test_markup_like_database_path_is_printed_as_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISISLAB_DB", "/proc/[/]/x.db")
    result = run("games", code=1)
    assert "/proc/[/]/x.db" in result.output and "cannot open the database" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["replay", MINI, "--format", "markdown", "-o"],
        ["gt", "model", "chicken", "--efg"],
    ],
    ids=["replay-output", "gt-efg"],
)
def test_a_written_path_with_markup_is_reported_as_typed(tmp_path: Path, args: list[Any]) -> None:
    (tmp_path / "a[").mkdir()
    target = tmp_path / "a[" / "]b.out"
    result = run(*args, str(target), code=0)
    assert f"wrote {target}" in result.output and target.exists()


def test_ray_install_hint_keeps_its_brackets(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    # a missing optional package is a failure to run (exit 1), named in one line
    result = run("simulate", MINI, "--runs", "1", "--no-store", "--backend", "ray", code=1)
    assert "pip install 'crisislab[ray]'" in result.output


# ---- files that are not files -----------------------------------------------------------


def test_dev_zero_is_refused_before_it_is_read() -> None:
    result = run("validate", "/dev/zero", code=1)
    assert "not a regular file" in result.output


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    result = run("validate", fifo, code=1)
    assert "not a regular file" in result.output


def test_a_folder_is_refused(tmp_path: Path) -> None:
    assert "is a folder" in run("validate", tmp_path, code=1).output


def test_a_huge_list_is_refused_while_it_is_parsed() -> None:
    text = "scenario: x\nlist: [" + ",".join(["1"] * 900_000) + "]\n"
    with pytest.raises(ScenarioError) as caught:
        load_text(text, "big.yaml")
    (problem,) = caught.value.problems
    assert "more than 200,000 values" in problem.message
    assert "alias" not in problem.message  # a plain list is not an alias bomb
    assert problem.line == 2


def test_a_game_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "game.efg"
    os.mkfifo(fifo)
    assert "not a regular file" in run("gt", "solve", fifo, code=1).output


# ---- numbers out of range ---------------------------------------------------------------


def test_a_clock_reaching_year_9999_is_refused_cleanly(tmp_path: Path) -> None:
    text = MINI_TEXT.replace(
        "end: 1962-10-06, step: half-day}", "end: 9999-12-31, step: half-day}"
    ).replace(
        "period: {start: 1962-10-01, end: 1962-10-06}",
        "period: {start: 1962-10-01, end: 9999-12-31}",
    )
    path = tmp_path / "long.yaml"
    path.write_text(text, encoding="utf-8")
    assert "more than 5,000 turns" in said(run("validate", path, code=1))


def test_a_clock_ending_on_the_last_day_of_the_calendar_builds(tmp_path: Path) -> None:
    text = MINI_TEXT.replace(
        "start: 1962-10-03, end: 1962-10-06, step: half-day",
        "start: 9999-12-29, end: 9999-12-31, step: half-day",
    ).replace(
        "period: {start: 1962-10-01, end: 1962-10-06}",
        "period: {start: 1962-10-01, end: 9999-12-31}",
    )
    path = tmp_path / "late.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("validate", path)
    assert result.exit_code in (0, 1)  # the record's dates may not fit; never a crash


def test_seed_2_63_is_refused_before_the_simulation(db: Path) -> None:
    result = run("simulate", MINI, "--runs", "1", "--seed", str(2**63), code=2)
    assert "--seed must be at most 2**63 - 1" in said(result)
    assert "How the crisis ends" not in result.output


def test_the_largest_seed_is_simulated_and_stored(db: Path) -> None:
    result = run(
        "simulate",
        MINI,
        "--runs",
        "1",
        "--seed",
        str(2**63 - 1),
        "--workers",
        "1",
        "-q",
        "--format",
        "json",
        code=0,
    )
    doc = json.loads(result.stdout)
    assert doc["seed"] == 2**63 - 1 and isinstance(doc["run_id"], int)
    listed = json.loads(run("runs", "--format", "json", code=0).stdout)["runs"]
    assert listed[0]["seed"] == 2**63 - 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["simulate", MINI, "--runs", str(2**63)], "--runs must be at most 1,000,000,000"),
        (["simulate", MINI, "--runs", str(10**12)], "--runs must be at most 1,000,000,000"),
        (["runs", "--limit", str(10**20)], "--limit must be at most 1,000,000"),
        (["games", "--limit", str(10**20)], "--limit must be at most 1,000,000"),
        (
            ["sources", "check", MINI, "--sources", ".", "--threshold", "nan"],
            "--threshold must be a number",
        ),
        (["simulate", MINI, "--tolerance", "inf"], "--tolerance must be at most"),
        (["gt", "tree", MINI, "--depth", "100000"], "--depth must be at most 64"),
    ],
    ids=[
        "runs-2-63",
        "runs-10-12",
        "runs-limit-10-20",
        "games-limit",
        "threshold-nan",
        "tolerance-inf",
        "gt-depth",
    ],
)
def test_numbers_out_of_range_are_refused(db: Path, args: list[Any], says: str) -> None:
    assert says in said(run(*args, code=2))


def test_option_ranges_are_stated_in_help() -> None:
    text = said(run("simulate", "--help", code=0))
    assert "1 to 1,000,000,000" in text and "0 to 2**63 - 1" in text


# ---- the database, before the work --------------------------------------------------------


def test_a_read_only_database_is_found_before_the_simulation(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()
    Store(f"sqlite:///{path}")  # the tables exist
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = run("simulate", MINI, "--runs", "1", "--db", url, code=1)
    assert "cannot write to the database" in result.output
    assert "How the crisis ends" not in result.output  # no work was done and thrown away


def test_a_database_password_is_never_printed(db: Path) -> None:
    url = "mysql://crisis:hunter2secret@127.0.0.1:1/runs"
    result = run("runs", "--db", url)
    assert result.exit_code in (1, 2)
    assert "hunter2secret" not in result.output
    assert "***" in result.output
    assert shown_url(url) == "mysql://crisis:***@127.0.0.1:1/runs"


# ---- stored rows ------------------------------------------------------------------------


@pytest.fixture()
def game(db: Path, tmp_path: Path) -> Path:
    """A finished game of mini (blue follows the record) saved as game 1."""
    moves = tmp_path / "moves.yaml"
    moves.write_text("- follow: 1962-10-02\n- choose: blue_wait\n- follow: end\n", encoding="utf-8")
    run("play", MINI, "--as", "blue", "--moves", moves, "--debrief-runs", "0", code=0)
    return db


def _edit_game(db: Path, change: Any) -> None:
    con = sqlite3.connect(db)
    log, letters = con.execute("select log, letters from games where id = 1").fetchone()
    log, letters = json.loads(log), json.loads(letters)
    log, letters = change(log, letters)
    con.execute(
        "update games set log = ?, letters = ? where id = 1", (json.dumps(log), json.dumps(letters))
    )
    con.commit()
    con.close()


def _without_choices(log: list[Any], letters: list[Any]) -> tuple[list[Any], list[Any]]:
    del log[1]["choices"]
    return log, letters


def _letter_without_recipient(log: list[Any], letters: list[Any]) -> tuple[list[Any], list[Any]]:
    log[1]["letters"] = [{"sender": "blue", "terms": [], "text": "hello"}]
    return log, letters


def _no_human_seat(log: list[Any], letters: list[Any]) -> tuple[list[Any], list[Any]]:
    log[0]["setup"]["seats"] = {a: "historical" for a in log[0]["setup"]["seats"]}
    return log, letters


def _no_digests(log: list[Any], letters: list[Any]) -> tuple[list[Any], list[Any]]:
    for record in log[1:]:
        record.pop("digest", None)
    return log, letters


@pytest.mark.parametrize(
    "change",
    [_without_choices, _letter_without_recipient, _no_human_seat, _no_digests],
    ids=[
        "turn-without-choices",
        "letter-without-recipient",
        "missing-human-seat",
        "digests-removed",
    ],
)
def test_a_damaged_game_is_reported_by_name(game: Path, change: Any) -> None:
    _edit_game(game, change)
    result = run("debrief", "1", "--runs", "0", code=1)
    assert "game 1" in result.output and "is damaged" in result.output
    assert "play --resume" not in result.output
    listing = run("games", code=0)  # the listing still works
    assert "game 1" in listing.output and "left out" in listing.output


def test_a_bad_date_in_a_game_row_is_reported_and_skipped(game: Path) -> None:
    again = game.parent / "again.yaml"
    again.write_text("- follow: end\n", encoding="utf-8")
    run("play", MINI, "--as", "red", "--moves", again, "--debrief-runs", "0", code=0)
    con = sqlite3.connect(game)
    con.execute("update games set updated = 'yesterday' where id = 1")
    con.commit()
    con.close()
    listing = run("games", code=0)
    assert "game 1" in listing.output and "left out" in listing.output
    assert "│ 2" in listing.output  # the other game is listed
    assert "cannot be read" in run("debrief", "1", "--runs", "0", code=1).output


def test_a_malformed_run_is_skipped_in_the_listing(db: Path) -> None:
    run("simulate", MINI, "--runs", "1", "--workers", "1", "-q", code=0)
    run("simulate", MINI, "--runs", "1", "--workers", "1", "-q", "--seed", "2", code=0)
    con = sqlite3.connect(db)
    con.execute(
        "update runs set results = ? where id = 1",
        (json.dumps({"outcomes": {"war": {"count": "many"}}}),),
    )
    con.commit()
    con.close()
    result = run("runs", "--format", "json")
    assert result.exit_code == 0
    assert [r["id"] for r in json.loads(result.stdout)["runs"]] == [2]
    assert "run 1" in result.stderr and "left out" in result.stderr


# ---- the scenario compiler --------------------------------------------------------------


SEMANTICS = [
    ("payoffs: {red: -10, blue: -10}", "payoffs: {red: .nan, blue: -10}", "payoff is nan"),
    ("payoffs: {red: -10, blue: -10}", "payoffs: {red: .inf, blue: -10}", "payoff is inf"),
    (
        "payoffs: {red: -10, blue: -10}",
        "payoffs: {red: '1e308 * 10', blue: -10}",
        "works out to inf",
    ),
    ("hazard: p_clash", "hazard: '5'", "hazard is 5; a hazard is a probability"),
    ("hazard: p_clash", "hazard: '-1'", "hazard is -1"),
    ("hazard: p_clash", "hazard: '1e308 * 10 - 1e308 * 10'", "hazard is nan"),
    (
        "when: posture == 'blockade'\n    hazard",
        "when: posture == 99\n    hazard",
        "99 is not a state of this enum",
    ),
    (
        "effects: [\"posture = 'calm'\"]",
        'effects: ["posture = 99"]',
        "99 is not a state of this enum",
    ),
    (
        "when: posture == 'blockade'\n    hazard",
        "when: posture == tension\n    hazard",
        "'tension' is not an enum",
    ),
    (
        "when: posture == 'blockade' and tension >= 3",
        "when: \"posture == 'blockade' # and tension >= 3\"",
        "a comment (#)",
    ),
    (
        "when: posture == 'blockade' and tension >= 3",
        "when: posture == 'blockade' and \uff54ension >= 3",
        "U+FF54) is not ASCII",
    ),
    (
        "when: deployed == 0 and offer_received and posture == 'calm'",
        "when: deployed > 1000",
        "the outcome 'deal' can never happen",
    ),
    (
        "summary: Two rivals, a hidden deployment, a letter and a risk of an incident.",
        "summary: !!binary VHdvIHJpdmFscw==",
        "'!!binary' is not allowed",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    SEMANTICS,
    ids=[
        "payoff-nan",
        "payoff-inf",
        "payoff-overflows",
        "hazard-5",
        "hazard-negative",
        "hazard-nan",
        "enum-compared-with-number",
        "enum-assigned-number",
        "enum-compared-with-number-variable",
        "comment-in-condition",
        "fullwidth-letter",
        "unreachable-outcome",
        "binary-value",
    ],
)
def test_scenario_semantics_are_refused_where_they_are_wrong(old: str, new: str, says: str) -> None:
    assert old in MINI_TEXT
    with pytest.raises(ScenarioError) as caught:
        load_text(MINI_TEXT.replace(old, new, 1), "mini.yaml")
    matching = [p for p in caught.value.problems if says in p.message]
    assert matching, caught.value.problems
    problem = matching[0]
    assert problem.file == "mini.yaml" and problem.line is not None and problem.hint


def test_the_shipped_scenarios_still_compile() -> None:
    assert load_scenario("cuba-1962").id == "cuba-1962"
    assert load_scenario(MINI).id == "mini"


# ---- the environment --------------------------------------------------------------------


def test_an_empty_or_relative_xdg_data_home_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sys.platform != "linux":
        pytest.skip("the XDG rules are Linux's")
    monkeypatch.delenv("CRISISLAB_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    home_default = f"sqlite:///{tmp_path / '.local' / 'share' / 'crisislab' / 'crisislab.db'}"
    for value in ("", "relative/data"):
        monkeypatch.setenv("XDG_DATA_HOME", value)
        assert default_url() == home_default
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_url() == f"sqlite:///{tmp_path / 'xdg' / 'crisislab' / 'crisislab.db'}"


def test_a_tilde_names_the_same_file_for_the_folder_and_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    store = Store("sqlite:///~/data/runs.db")
    assert store.url == f"sqlite:///{tmp_path / 'data' / 'runs.db'}"
    assert (tmp_path / "data" / "runs.db").exists()
    assert not Path("~").exists()


def test_play_games_and_debrief_take_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "default.db"))
    other = tmp_path / "other.db"
    moves = tmp_path / "moves.yaml"
    moves.write_text("- follow: end\n", encoding="utf-8")
    run(
        "play",
        MINI,
        "--as",
        "blue",
        "--moves",
        moves,
        "--debrief-runs",
        "0",
        "--db",
        f"sqlite:///{other}",
        code=0,
    )
    assert "mini" in run("games", "--db", f"sqlite:///{other}", code=0).output
    assert "No games yet" in run("games", code=0).output
    run("debrief", "1", "--runs", "0", "--db", f"sqlite:///{other}", code=0)
    assert "there is no game 1" in run("debrief", "1", "--runs", "0", code=2).output


# ---- the RL environment -------------------------------------------------------------------


def _env(**kw: Any) -> Any:
    from crisislab.rl import CrisisParallelEnv

    return CrisisParallelEnv(load_scenario(MINI), **kw)


@pytest.mark.parametrize(
    "action", [1.7, True, 1.0, "1"], ids=["float", "bool", "whole-float", "text"]
)
def test_the_rl_env_refuses_an_action_that_is_not_a_whole_number(action: Any) -> None:
    env = _env()
    env.reset(seed=1)
    actions = {a: 0 for a in env.agents}
    actions[env.agents[0]] = action
    with pytest.raises(TypeError, match="whole number"):
        env.step(actions)


@pytest.mark.parametrize(
    ("kw", "error", "says"),
    [
        ({"start_turn": -5}, ValueError, "start_turn must be from 0"),
        ({"start_turn": 10_000}, ValueError, "start_turn must be from 0"),
        ({"start_turn": 1.5}, TypeError, "whole number"),
        ({"learners": ["green"]}, ValueError, "learners must be seats"),
        ({"learners": "blue"}, TypeError, "not one string"),
        ({"learners": ["neutral"]}, ValueError, "learners must be seats"),
        ({"learners": ["blue", "blue"]}, ValueError, "named twice"),
        ({"learners": ["blue"], "seats": {"blue": "hawk"}}, ValueError, "not a seat left"),
        ({"learners": ["blue"], "seats": {"red": 3}}, TypeError, "must be a spec"),
    ],
    ids=[
        "start-negative",
        "start-past-clock",
        "start-float",
        "unknown-learner",
        "learners-string",
        "scripted-learner",
        "learner-twice",
        "seat-for-learner",
        "seat-not-text",
    ],
)
def test_the_rl_env_validates_its_arguments(
    kw: dict[str, Any], error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says):
        _env(**kw)


def test_the_rl_env_refuses_a_seed_out_of_range() -> None:
    env = _env()
    with pytest.raises(ValueError, match="2\\*\\*63"):
        env.reset(seed=2**63)
    with pytest.raises(TypeError):
        env.reset(seed=True)
