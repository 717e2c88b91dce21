"""End to end: the gt commands, the scenario abstraction and the equilibrium agent."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pygambit as gbt
import pytest

from crisislab.gt.flat import to_gambit
from crisislab.gt.solve import solve_game
from crisislab.gt.tree import build_tree, describe_path
from crisislab.scenario.loader import load_scenario

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisislab.cli", "gt", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_solve_json_has_exact_fractions() -> None:
    r = run("solve", str(DATA / "gt" / "chicken.nfg"), "--method", "enummixed", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["method"] == "enummixed" and doc["exact"]
    assert {"Row": "5/2", "Column": "5/2"} in [e["payoffs"] for e in doc["equilibria"]]


def test_bad_efg_reports_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.efg"
    bad.write_text('EFG 2 R "x" { "A" "B" }\n""\n\np "" 1 1 "" { "a" "b" 0\n')
    r = run("solve", str(bad))
    assert r.returncode == 1
    assert "bad.efg:4:" in r.stderr and "Traceback" not in r.stderr


def test_model_brinkmanship_plot(tmp_path: Path) -> None:
    png = tmp_path / "window.png"
    r = run("model", "brinkmanship", "--param", "p=1/2", "--plot", str(png), "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["window"] == ["1/3", "3/8"] and png.stat().st_size > 1000


def test_model_zagare_json_shows_the_crisis_path(tmp_path: Path) -> None:
    efg = tmp_path / "aeg.efg"
    r = run("model", "zagare", "-f", "json", "--efg", str(efg))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["thresholds"]["s*_hard"] == "2/5"
    limited = next(e for e in doc["equilibria"] if e["response"] == "HH and HS respond in kind")
    assert limited["outcomes"] == {"DC": "1/2", "DD": "1/2"}
    assert all(c["holds"] for c in limited["conditions"])
    assert len(doc["pygambit"]) >= 1
    game = gbt.read_efg(str(efg))  # the same game, read back by Gambit
    assert sum(1 for n in game.nodes if n.is_terminal) == 56
    assert len([i for i in game.infosets if not i.is_chance]) == 14


@pytest.mark.parametrize(
    "args,message",
    [
        (["-p", "p_hh=1/2"], "p_hh + p_hs + p_sh + p_ss = 1"),
        (["-p", "c_dd=55"], "need c_dd < c_ed"),
        (["-p", "p_ch=x"], "not a number"),
        (["-p", "q=1"], "bad --param"),
    ],
)
def test_model_zagare_bad_params_are_clean_errors(args, message) -> None:
    r = run("model", "zagare", "--no-check", *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def test_model_chicken_shows_metagame_and_rejects_bad_ranks() -> None:
    r = run("model", "prisoners_dilemma", "-f", "json", "--no-check")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["metagame"]["symmetric"] == [[0, 0], [1, 1]]
    r = run("model", "chicken", "-p", "cc=3")
    assert r.returncode == 2 and "cc=3,3" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def mini_tree():  # type: ignore[no-untyped-def]
    return build_tree(load_scenario(MINI), depth=3, samples=40, seed=1)


def test_mini_tree_is_a_gambit_game_with_information_sets(mini_tree, tmp_path) -> None:
    size = mini_tree.size
    assert size["decision_nodes"] > 0 and size["chance_nodes"] > 0
    assert any(len(i.nodes) > 1 for i in mini_tree.tree.infosets)  # hidden deployment
    assert all(sum(p) == 1 for p in mini_tree.tree.probs if p)  # exact chance
    out = tmp_path / "mini.efg"
    to_gambit(mini_tree.tree).to_efg(str(out))
    game = gbt.read_efg(str(out))
    assert game.is_perfect_recall
    assert len(list(game.players)) == len(mini_tree.tree.players)


def test_mini_tree_is_reproducible(mini_tree) -> None:
    again = build_tree(load_scenario(MINI), depth=3, samples=40, seed=1)
    assert again.tree.payoff == mini_tree.tree.payoff


def test_solving_the_scenario_names_a_path(mini_tree) -> None:
    res = solve_game(to_gambit(mini_tree.tree), "lcp")
    assert res.equilibria and res.equilibria[0].regret == 0
    words = describe_path(mini_tree, res.profiles[0])
    assert any("chooses" in w for w in words)
    assert "crisis ends" in words[-1] or "cut" in words[-1]


def test_cli_tree_and_solve_on_a_scenario(tmp_path: Path) -> None:
    efg = tmp_path / "mini.efg"
    r = run("tree", str(MINI), "--depth", "2", "--samples", "20", "--efg", str(efg))
    assert r.returncode == 0, r.stderr
    assert "leaves" in r.stdout and efg.exists()
    r = run("solve", str(MINI), "--depth", "2", "--samples", "20", "-m", "lcp", "-f", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["equilibria"][0]["path"]


def test_equilibrium_agent_plays_and_is_reproducible() -> None:
    from crisislab.agents.registry import parse_seats
    from crisislab.runner import run_batch

    sc = load_scenario(MINI)
    opts = ["red=equilibrium:depth=2,samples=20", "blue=equilibrium:depth=2,samples=20"]
    a = run_batch(sc, parse_seats(opts, sc), n=50, seed=3)
    b = run_batch(sc, parse_seats(opts, sc), n=50, seed=3)
    assert np.array_equal(a.outcome, b.outcome)
    assert set(a.outcome_names()) <= {o.id for o in sc.outcomes}


def test_exact_payoffs_are_fractions(mini_tree) -> None:
    assert all(isinstance(v, Fraction) for pay in mini_tree.tree.payoff for v in pay)
