"""gt solve against pygambit's own solvers on every game file of tests/data/gt."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pygambit as gbt
import pytest

from crisislab.gt.flat import CHANCE, exact, from_gambit
from crisislab.gt.gamefile import GameFileError, parse_game, read_game
from crisislab.gt.solve import SolveError, solve_game

DATA = Path(__file__).parent / "data" / "gt"
FILES = sorted(p for p in DATA.iterdir() if p.suffix in (".efg", ".nfg"))


def canon_strategy(eq) -> tuple:  # mine -> comparable tuple
    return tuple(
        tuple(Fraction(v) for v in acts.values()) if isinstance(acts, dict) else Fraction(acts)
        for player in eq.strategy.values()
        for acts in player.values()
    )


def canon_gambit(game: gbt.Game, profile) -> tuple:
    if game.is_tree:
        if isinstance(profile, gbt.MixedStrategyProfile):
            profile = profile.as_behavior()
        return tuple(
            tuple(exact(profile[a]) for a in info.actions)
            for p in game.players
            for info in p.infosets
        )
    return tuple(exact(profile[s]) for p in game.players for s in p.strategies)


def _mask(rows: tuple, ref: tuple) -> tuple:
    return tuple(
        None if isinstance(r, tuple) and not any(r) else m for m, r in zip(rows, ref, strict=True)
    )


def test_at_least_twenty_games_of_every_kind() -> None:
    games = {p.name: read_game(p) for p in FILES}
    assert len(games) >= 20
    trees = [g for g in games.values() if g.is_tree]
    assert any(from_gambit(g).is_perfect_information() for g in trees)
    assert any(not from_gambit(g).is_perfect_information() for g in trees)
    assert any(CHANCE in from_gambit(g).player for g in trees)
    assert {len(g.players) for g in games.values()} >= {2, 3}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_exact_methods_agree_with_pygambit(path: Path) -> None:
    game = read_game(path)
    two = len(game.players) == 2
    methods = {"enumpure": gbt.nash.enumpure_solve}
    if two:
        methods["lcp"] = lambda g: gbt.nash.lcp_solve(g, rational=True)
        if game.is_const_sum:
            methods["lp"] = lambda g: gbt.nash.lp_solve(g, rational=True)
        if not game.is_tree:
            methods["enummixed"] = lambda g: gbt.nash.enummixed_solve(g, rational=True)
    for method, theirs in methods.items():
        mine = solve_game(game, method)
        ref = theirs(game).equilibria
        assert mine.exact
        theirs_rows = sorted(canon_gambit(game, p) for p in ref)
        # pygambit leaves all-zero rows where a strategic profile never reaches an
        # information set; crisislab puts the first action there (still Nash): compare
        # the rows pygambit specifies
        mine_rows = sorted(canon_strategy(e) for e in mine.equilibria)
        assert len(mine_rows) == len(theirs_rows), method
        assert sorted(_mask(m, t) for m, t in zip(mine_rows, theirs_rows, strict=True)) == sorted(
            _mask(t, t) for t in theirs_rows
        ), method
        assert sorted(tuple(e.payoffs.values()) for e in mine.equilibria) == sorted(
            tuple(exact(p.payoff(pl)) for pl in game.players) for p in ref
        ), method
        assert all(e.regret == 0 for e in mine.equilibria), method


@pytest.mark.parametrize(
    "path",
    [p for p in FILES if p.suffix == ".efg"],
    ids=[p.name for p in FILES if p.suffix == ".efg"],
)
def test_spe_is_a_nash_equilibrium_by_pygambit(path: Path) -> None:
    game = read_game(path)
    res = solve_game(game, "spe")
    assert res.equilibria
    tree = from_gambit(game)
    pure_payoffs = {
        tuple(exact(p.payoff(pl)) for pl in game.players)
        for p in gbt.nash.enumpure_solve(game).equilibria
    }
    for eq, prof in zip(res.equilibria, res.profiles, strict=True):
        g = game.mixed_behavior_profile(rational=True)
        k = 0
        for p in game.players:
            for info in p.infosets:
                for a, x in zip(info.actions, prof[k], strict=True):
                    g[a] = gbt.Rational(Fraction(x).numerator, Fraction(x).denominator)
                k += 1
        assert g.max_regret() == 0
        if tree.is_perfect_information():
            assert tuple(eq.payoffs.values()) in pure_payoffs


TEXTBOOK = [
    ("chicken.nfg", "enummixed", [("2", "4"), ("5/2", "5/2"), ("4", "2")]),
    ("matching_pennies.nfg", "enummixed", [("0", "0")]),
    ("rock_paper_scissors.nfg", "lp", [("0", "0")]),
    ("prisoners_dilemma.nfg", "enumpure", [("2", "2")]),
    ("entry_deterrence.efg", "spe", [("1", "1")]),
    ("centipede.efg", "spe", [("3", "1")]),
    ("quarantine_with_chance.efg", "spe", [("-2/5", "2/5")]),
    ("kuhn_poker.efg", "lp", [("-1/18", "1/18")]),
    ("one_card_poker.efg", "lp", [("1/3", "-1/3")]),
    ("three_player_chance.efg", "spe", [("4/3", "2", "0")]),
]


@pytest.mark.parametrize("name,method,payoffs", TEXTBOOK, ids=[t[0] for t in TEXTBOOK])
def test_textbook_answers(name: str, method: str, payoffs: list) -> None:
    res = solve_game(read_game(DATA / name), method)
    got = sorted(tuple(str(v) for v in e.payoffs.values()) for e in res.equilibria)
    assert got == sorted(payoffs)


def test_cfr_reaches_kuhn_value_and_reports_exploitability() -> None:
    res = solve_game(read_game(DATA / "kuhn_poker.efg"), "cfr", iterations=1500)
    assert abs(float(res.equilibria[0].payoffs["P1"]) + 1 / 18) < 2e-3
    assert res.details["nash_conv"] < 5e-3
    assert res.details["nash_conv"] == pytest.approx(float(res.equilibria[0].regret))


def test_logit_agrees_with_pygambit_and_gives_a_path() -> None:
    game = read_game(DATA / "one_card_poker.efg")
    res = solve_game(game, "logit")
    ref = gbt.nash.logit_solve(game).equilibria[0]
    mine = [float(x) for row in canon_strategy(res.equilibria[0]) for x in row]
    theirs = [float(x) for row in canon_gambit(game, ref) for x in row]
    assert mine == pytest.approx(theirs, abs=1e-6)
    lams = [p["lambda"] for p in res.details["logit_path"]]
    assert lams == sorted(lams) and len(lams) > 3


def test_wrong_method_says_which_works() -> None:
    with pytest.raises(SolveError, match="two-player"):
        solve_game(read_game(DATA / "selten_horse.efg"), "lcp")
    with pytest.raises(SolveError, match="tree"):
        solve_game(read_game(DATA / "chicken.nfg"), "spe")


BAD = [
    ("missing brace", 'EFG 2 R "x" { "A" "B" }\n""\n\np "" 1 1 "" { "a" "b" 0\n', 4),
    ("bad node", 'EFG 2 R "x" { "A" "B" }\n""\n\nq "" 1 1 "" { "a" } 0\n', 4),
    ("not a game", "hello\n", 1),
    ("nfg short", 'NFG 1 R "x" { "A" "B" } { 2 2 }\n\n1 2 3\n', 0),
]


@pytest.mark.parametrize("name,text,line", BAD, ids=[b[0] for b in BAD])
def test_bad_files_give_line_and_column(name: str, text: str, line: int) -> None:
    with pytest.raises(GameFileError) as e:
        parse_game(text, "bad.efg")
    assert e.value.line >= 1 and e.value.column >= 1
    if line:
        assert e.value.line == line
    assert "bad.efg:" in str(e.value)
