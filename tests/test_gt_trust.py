"""Solver answers you can trust: named cases where a solver, a file or a cap used to give a
wrong or silent answer, each checked against pygambit or a brute force written here.

Gambit's and OpenSpiel's example games are written out by these tests from their
published structure (the tree, the moves, the payoffs), not copied from their files.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pygambit as gbt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.gt.build import table_game, tree_game
from crisislab.gt.flat import TERMINAL, FlatTree, exact, from_gambit, to_gambit
from crisislab.gt.gamefile import GameFileError, ReadNotes, parse_game, read_game
from crisislab.gt.regret import nash_conv, subgame_gains
from crisislab.gt.solve import solve_game
from crisislab.gt.spe import count_pure_spe

DATA = Path(__file__).parent / "data" / "gt"
FILES = sorted(p for p in DATA.iterdir() if p.suffix in (".efg", ".nfg"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisislab.cli", "gt", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def gambit_regret(game: gbt.Game, profile: list[list[object]]) -> Fraction:
    """pygambit's own maximum regret of a profile given as rows (infosets or players)."""
    if game.is_tree:
        g = game.mixed_behavior_profile(rational=True)
        rows = iter(profile)
        for p in game.players:
            for info in p.infosets:
                for a, x in zip(info.actions, next(rows), strict=True):
                    f = (
                        Fraction(x).limit_denominator(10**12)
                        if isinstance(x, float)
                        else Fraction(x)
                    )
                    g[a] = gbt.Rational(f.numerator, f.denominator)
        return exact(g.max_regret())
    m = game.mixed_strategy_profile(rational=True)
    for p, row in zip(game.players, profile, strict=True):
        for s, x in zip(p.strategies, row, strict=True):
            f = Fraction(x).limit_denominator(10**12) if isinstance(x, float) else Fraction(x)
            m[s] = gbt.Rational(f.numerator, f.denominator)
    return exact(m.max_regret())


# ---- games written from their published structure ---------------------------------------

ONE, TWO = "Player 1", "Player 2"


def nim_tree() -> tuple:  # type: ignore[type-arg]
    """Gambit's example nim.efg: one pile of five stones, take one or two, the taker of
    the last stone wins; the tree as Gambit draws it (it stops when one stone is left),
    without its labels."""
    w1, w2 = ("t", "one wins", [1, -1]), ("t", "two wins", [-1, 1])

    def move(pl: str, key: str, a: tuple, b: tuple) -> tuple:  # type: ignore[type-arg]
        return ("p", pl, key, [("take 1", a), ("take 2", b)])

    return move(
        ONE,
        "5",
        move(TWO, "4", move(ONE, "3", move(TWO, "2a", w1, w2), w2), move(ONE, "2b", w2, w1)),
        move(TWO, "3", move(ONE, "2c", w2, w1), w2),
    )


def minimax(spec: tuple) -> tuple:  # type: ignore[type-arg]
    """Brute-force backward induction on a perfect-information spec (no ties here)."""
    if spec[0] == "t":
        return tuple(spec[2])
    who = 0 if spec[1] == ONE else 1
    return max((minimax(child) for _, child in spec[3]), key=lambda v: v[who])


def nim_text_with_labels() -> str:
    """nim.efg as Gambit ships it, with node labels ("5 left", ...) that repeat: the file
    is written here from the tree; the first repeated label falls on line 10."""
    lines = ['EFG 2 R "Nim, five stones" { "Player 1" "Player 2" }', '""', ""]
    outcomes: dict[tuple[int, int], int] = {}

    def walk(spec: tuple, left: int) -> None:  # type: ignore[type-arg]
        if spec[0] == "t":
            pay = tuple(spec[2])
            k = outcomes.setdefault(pay, len(outcomes) + 1)
            lines.append(f't "{left} left" {k} "Outcome {k}" {{ {pay[0]}, {pay[1]} }}')
            return
        pl = 1 if spec[1] == ONE else 2
        number = walk.counters[pl] = walk.counters.get(pl, 0) + 1  # type: ignore[attr-defined]
        lines.append(f'p "{left} left" {pl} {number} "({pl},{number})" {{ "TAKE 1" "TAKE 2" }} 0')
        for (_label, child), take in zip(spec[3], (1, 2), strict=True):
            walk(child, left - take)

    walk.counters = {}  # type: ignore[attr-defined]
    walk(nim_tree(), 5)
    return "\n".join(lines) + "\n"


def mckelvey_mclennan() -> gbt.Game:
    """Gambit's 2x2x2.nfg, McKelvey and McLennan's three-player example with nine Nash
    equilibria (two totally mixed): payoffs per pure profile, player 1's choice fastest."""
    cells = [
        (9, 8, 12),
        (0, 0, 0),
        (0, 0, 0),
        (9, 8, 2),
        (0, 0, 0),
        (3, 4, 6),
        (3, 4, 6),
        (0, 0, 0),
    ]
    arr = [[[[0, 0], [0, 0]], [[0, 0], [0, 0]]] for _ in range(3)]
    for k, pay in enumerate(cells):
        i, j, m = k % 2, (k // 2) % 2, k // 4
        for pl in range(3):
            arr[pl][i][j][m] = pay[pl]
    return table_game("2x2x2 (McKelvey and McLennan)", ["P1", "P2", "P3"], [["1", "2"]] * 3, arr)


def cross_tree() -> tuple:  # type: ignore[type-arg]
    """Gambit's cross.efg, "criss-crossing infosets": player 2's two information sets
    each hold a node where it has moved before and one where it has not."""
    z = ("t", "end", [0, 0])

    def move(pl: str, key: str, a: tuple, b: tuple) -> tuple:  # type: ignore[type-arg]
        return ("p", pl, key, [("1", a), ("2", b)])

    return move(
        ONE,
        "a",
        move(TWO, "x", move(ONE, "b", move(TWO, "y", z, z), z), move(ONE, "b", z, z)),
        move(TWO, "y", move(ONE, "c", move(TWO, "x", z, z), z), move(ONE, "c", z, z)),
    )


def openspiel_kuhn_text() -> str:
    """Kuhn poker in the format of OpenSpiel's ``export_gambit``: players "Pl0" "Pl1",
    a chance node per deal with probabilities printed with 16 decimals (so 1/3 becomes
    0.3333333333333333 and three of them add up to 0.9999999999999999), one information
    set number per information-state string, terminals numbered in order."""
    lines = ['EFG 2 R "kuhn_poker()" { "Pl0" "Pl1" } ']
    infosets: list[dict[str, int]] = [{}, {}]
    counters = {"t": 0, "c": 0}

    def returns(cards: tuple[int, int], hist: str) -> tuple[float, float]:
        win = 1.0 if cards[0] > cards[1] else -1.0
        if hist == "pp":
            return win, -win
        if hist in ("bb", "pbb"):
            return 2 * win, -2 * win
        if hist == "bp":
            return 1.0, -1.0
        return -1.0, 1.0  # "pbp": player 0 folds

    def node(cards: tuple[int, ...], hist: str, depth: int) -> None:
        pad = " " * depth
        if len(cards) < 2:
            counters["c"] += 1
            left = [c for c in range(3) if c not in cards]
            probs = " ".join(f'"Deal:{c}" {1 / len(left):.16f}' for c in left)
            lines.append(f'{pad}c "" {counters["c"]} "" {{ {probs}  }} 0')
            for c in left:
                node((*cards, c), hist, depth + 1)
            return
        if hist in ("pp", "bb", "bp", "pbb", "pbp"):
            counters["t"] += 1
            r = returns((cards[0], cards[1]), hist)
            lines.append(f'{pad}t "" {counters["t"]} "" {{ {r[0]} {r[1]} }}')
            return
        player = len(hist) % 2
        key = f"{cards[player]}{hist}"
        number = infosets[player].setdefault(key, len(infosets[player]) + 1)
        lines.append(f'{pad}p "" {player + 1} {number} "" {{ "Pass" "Bet"  }} 0')
        for a in ("p", "b"):
            node(cards, hist + a, depth + 1)

    node((), "", 0)
    return "\n".join(lines) + "\n"


# ---- solver failures ----------------------------------------------------------------


def test_lp_on_an_all_ones_tree_is_caught_and_replaced() -> None:
    ones = (
        "p",
        "A",
        "a",
        [
            ("l", ("p", "B", "b", [("x", ("t", "o", [1, 1])), ("y", ("t", "o", [1, 1]))])),
            ("r", ("t", "o", [1, 1])),
        ],
    )
    game = tree_game("All ones", ["A", "B"], ones)
    tree = from_gambit(game)
    theirs = gbt.nash.lp_solve(game, rational=True).equilibria
    broken = any(
        not all(sum(exact(e[a]) for a in i.actions) == 1 for p in game.players for i in p.infosets)
        for e in theirs
    )
    res = solve_game(game, "lp")
    assert bool(res.failures) == broken  # pygambit 16.7: an empty row at the root
    assert res.equilibria and all(e.verified for e in res.equilibria)
    for _eq, prof in zip(res.equilibria, res.profiles, strict=True):
        assert gambit_regret(game, prof) == 0
        assert nash_conv(tree, prof)[0] == 0
    if broken:
        assert res.method != "lp" and res.requested == "lp"
        assert any("lp failed the check" in n for n in res.notes)


def test_lp_on_nim_without_labels_gives_the_true_value() -> None:
    game = tree_game("Nim", [ONE, TWO], nim_tree())
    value = minimax(nim_tree())
    assert value == (-1, 1)  # Gambit's tree is worth -1 to the first player
    res = solve_game(game, "lp")
    assert res.equilibria
    assert {tuple(e.payoffs.values()) for e in res.equilibria} == {value}
    assert all(gambit_regret(game, p) == 0 for p in res.profiles)
    ref = gbt.nash.lp_solve(game, rational=True).equilibria[0]
    if exact(ref.payoff(list(game.players)[0])) != -1:  # pygambit 16.7 says 0
        assert res.failures and res.failures[0]["method"] == "lp"


def test_cli_reports_the_lp_failure_and_the_fallback(tmp_path: Path) -> None:
    path = tmp_path / "nim.efg"
    tree_game("Nim", [ONE, TWO], nim_tree()).to_efg(str(path))
    r = run("solve", str(path), "-m", "lp", "-f", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["requested_method"] == "lp"
    assert all(e["verified"] and e["payoffs"] == {ONE: "-1", TWO: "1"} for e in doc["equilibria"])
    if doc["solver_failures"]:
        assert doc["method"] == "spe"
        r = run("solve", str(path), "-m", "lp")
        assert "solver failure: lp" in r.stdout and "1 equilibrium by lp" not in r.stdout


def test_logit_on_the_2x2x2_game_is_called_unconverged() -> None:
    game = mckelvey_mclennan()
    raw = gbt.nash.logit_solve(game).equilibria[0]
    stuck = float(raw.max_regret()) > 1e-3  # pygambit 16.7 stops at lambda 0.597
    shown = solve_game(game, "logit", fallback=False)
    assert shown.details["final_lambda"] > 0
    if stuck:
        assert shown.details["final_regret"] > 0.1  # 0.213 in pygambit 16.7
        assert not shown.equilibria[0].verified
        assert any("did not converge" in n for n in shown.notes)
        assert not shown.complete
    res = solve_game(game, "logit")
    assert all(e.verified for e in res.equilibria)
    # brute force: the pure equilibria of the table, found by trying every profile
    sizes = [2, 2, 2]
    pure = []
    for idx in itertools.product(*(range(k) for k in sizes)):
        mix = [[Fraction(int(j == i)) for j in range(2)] for i in idx]
        if gambit_regret(game, mix) == 0:
            pure.append(tuple(float(x) for row in mix for x in row))
    assert len(pure) == 4
    got = {tuple(round(float(x), 6) for row in p for x in row) for p in res.profiles}
    assert set(pure) <= got
    for prof in res.profiles:
        assert float(gambit_regret(game, prof)) <= 1e-6
    if stuck:
        assert res.method != "logit" and len(res.equilibria) == 9  # all nine, by enumpoly
        assert res.failures[0]["regret"] > 0.1


def test_cfr_that_has_not_converged_says_so() -> None:
    res = solve_game(read_game(DATA / "kuhn_poker.efg"), "cfr", iterations=3)
    assert res.failures and not res.equilibria[0].verified
    assert any("approximate" in n for n in res.notes)


# ---- caps and partial answers -----------------------------------------------------------


def ties(depth: int, k: list[int] | None = None) -> tuple:  # type: ignore[type-arg]
    k = [0] if k is None else k
    if depth == 0:
        return ("t", "even", [0, 0])
    k[0] += 1
    label = f"n{k[0]}"
    return (
        "p",
        "A" if depth % 2 else "B",
        label,
        [("left", ties(depth - 1, k)), ("right", ties(depth - 1, k))],
    )


def test_spe_limit_truncation_is_stated(tmp_path: Path) -> None:
    game = tree_game("Ties everywhere", ["A", "B"], ties(3))
    res = solve_game(game, "spe", limit=64)
    assert len(res.equilibria) == 64 and not res.complete
    assert res.details["total_pure_spe"] == 2**7  # every pure profile: all payoffs tie
    assert any("128" in n and "64 are left out" in n for n in res.notes)
    full = solve_game(game, "spe", limit=200)
    assert len(full.equilibria) == 128 and full.complete
    path = tmp_path / "ties.efg"
    game.to_efg(str(path))
    r = run("solve", str(path), "-m", "spe", "--limit", "64")
    assert "64 of 128 equilibria" in r.stdout and "--all" in r.stdout
    assert r.stdout.count("\nequilibrium ") == 3  # summarised, not 64 listed
    r = run("solve", str(path), "-m", "spe", "--limit", "64", "--all")
    assert r.stdout.count("\nequilibrium ") == 64
    doc = json.loads(run("solve", str(path), "-m", "spe", "-f", "json").stdout)
    assert doc["complete"] is False and doc["parameters"]["limit"] == 64
    assert len(doc["equilibria"]) == 64


def test_spe_with_imperfect_information_subgames_says_some() -> None:
    res = solve_game(read_game(DATA / "kuhn_poker.efg"), "spe")
    assert not res.complete and "some" in res.finds
    assert res.details["imperfect_information_subgames"] >= 1


@st.composite
def perfect_information_trees(draw):  # type: ignore[no-untyped-def]
    """Small perfect-information trees with many ties (payoffs 0 or 1)."""
    budget = [draw(st.integers(1, 6))]

    def node(depth: int) -> tuple:  # type: ignore[type-arg]
        if depth > 3 or budget[0] <= 0 or not draw(st.booleans()):
            return ("t", "z", [draw(st.integers(0, 1)), draw(st.integers(0, 1))])
        budget[0] -= 1
        k = draw(st.integers(2, 3))
        return (
            "p",
            draw(st.sampled_from(["A", "B"])),
            f"i{budget[0]}-{depth}-{k}",
            [(f"a{j}", node(depth + 1)) for j in range(k)],
        )

    return ("p", "A", "root", [("a0", node(1)), ("a1", node(1))])


def brute_force_spe(tree: FlatTree) -> int:
    """Count pure profiles that are Nash in every subgame, by trying them all."""
    count = 0
    for choice in itertools.product(*(range(len(i.actions)) for i in tree.infosets)):
        prof = [
            [Fraction(int(j == c)) for j in range(len(i.actions))]
            for c, i in zip(choice, tree.infosets, strict=True)
        ]
        bad, checked = subgame_gains(tree, prof)
        if checked and not bad and nash_conv(tree, prof)[0] == 0:
            count += 1
    return count


@settings(max_examples=60, deadline=None)
@given(perfect_information_trees())
def test_spe_count_matches_brute_force(spec) -> None:  # type: ignore[no-untyped-def]
    try:
        game = tree_game("random", ["A", "B"], spec)
    except ValueError:  # a repeated infoset label of another arity: not a valid draw
        return
    tree = from_gambit(game)
    want = brute_force_spe(tree)
    assert count_pure_spe(tree) == want
    res = solve_game(game, "spe", limit=10**6)
    assert len(res.equilibria) == want and res.complete


def test_every_profile_shown_is_checked_by_pygambit() -> None:
    """No method shows a profile whose pygambit regret exceeds its tolerance without
    marking it."""
    for path in FILES:
        game = read_game(path)
        two = len(game.players) == 2
        methods = (
            ["enumpure", "logit"]
            + (["lcp"] if two else [])
            + (["lp"] if two and game.is_const_sum else [])
            + (["spe", "cfr"] if game.is_tree else [])
            + (["enummixed"] if two and not game.is_tree else [])
        )
        for method in methods:
            res = solve_game(game, method, iterations=300)
            for eq, prof in zip(res.equilibria, res.profiles, strict=True):
                regret = float(gambit_regret(game, prof))
                if eq.verified:
                    assert regret <= res.tolerance + 1e-9, (path.name, method)
                else:
                    assert regret > res.tolerance * 0.5, (path.name, method)


# ---- reading files ------------------------------------------------------------------


def test_cross_efg_imperfect_recall_is_refused_at_its_line(tmp_path: Path) -> None:
    game = tree_game("Criss-crossing infosets", [ONE, TWO], cross_tree())
    assert not game.is_perfect_recall  # pygambit agrees
    path = tmp_path / "cross.efg"
    game.to_efg(str(path))
    with pytest.raises(GameFileError) as e:
        read_game(path)
    assert "imperfect recall" in e.value.message and e.value.line > 3
    assert path.read_text().splitlines()[e.value.line - 1].lstrip().startswith("p ")
    r = run("solve", str(path))
    assert r.returncode == 1 and "imperfect recall" in r.stderr
    assert "Traceback" not in r.stderr and "recursion" not in r.stderr


def test_nim_repeated_node_label_points_at_line_10() -> None:
    text = nim_text_with_labels()
    lines = text.splitlines()
    assert lines[9].startswith('t "1 left"') and lines[7].startswith('t "1 left"')
    with pytest.raises(GameFileError) as e:
        parse_game(text, "nim.efg")
    assert (e.value.line, e.value.column) == (10, 1)
    assert "1 left" in e.value.message and "line 8" in e.value.message
    fixed = text.replace('t "1 left"', 't ""').replace('t "0 left"', 't ""')
    fixed = (
        "\n".join(
            ln.replace(' left" ', f' left ({i})" ') for i, ln in enumerate(fixed.splitlines())
        )
        + "\n"
    )
    game = parse_game(fixed, "nim.efg")
    assert solve_game(game, "spe").equilibria[0].payoffs[ONE] == -1


def test_openspiel_export_with_decimal_chance_loads_and_solves(tmp_path: Path) -> None:
    text = openspiel_kuhn_text()
    assert "0.3333333333333333" in text
    with pytest.raises(ValueError):
        gbt.read_efg(__import__("io").StringIO(text))  # pygambit alone refuses it
    notes = ReadNotes()
    game = parse_game(text, "kuhn.efg", notes)
    assert notes.warnings and "exact fractions" in notes.warnings[0]
    tree = from_gambit(game)
    assert all(sum(p) == 1 for p in tree.probs if p)
    assert {x for p in tree.probs for x in p} == {Fraction(1, 3), Fraction(1, 2)}
    res = solve_game(game, "lp")
    assert res.equilibria[0].payoffs["Pl0"] == Fraction(-1, 18)  # Kuhn's value
    # round trip: Gambit's writer and this reader give the same tree
    out = tmp_path / "kuhn.efg"
    game.to_efg(str(out))
    again = from_gambit(read_game(out))
    assert again.payoff == tree.payoff and again.probs == tree.probs
    assert [i.actions for i in again.infosets] == [i.actions for i in tree.infosets]
    r = run("solve", str(_write(tmp_path / "os.efg", text)), "-m", "lp")
    assert r.returncode == 0 and "warning" in r.stderr and "-1/18" in r.stdout


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_chance_far_from_one_is_an_error_on_its_line() -> None:
    text = openspiel_kuhn_text().replace("0.5000000000000000", "0.4000000000000000", 1)
    with pytest.raises(GameFileError) as e:
        parse_game(text, "kuhn.efg")
    assert text.splitlines()[e.value.line - 1].lstrip().startswith("c ")
    assert "add up to" in e.value.message


def test_round_trip_of_every_test_game_through_gambits_writer(tmp_path: Path) -> None:
    for path in FILES:
        game = read_game(path)
        out = tmp_path / path.name
        if game.is_tree:
            to_gambit(from_gambit(game)).to_efg(str(out))
            a, b = from_gambit(game), from_gambit(read_game(out))
            assert (a.payoff, a.probs, a.player) == (b.payoff, b.probs, b.player), path.name
        else:
            game.to_nfg(str(out))
            assert read_game(out).is_const_sum == game.is_const_sum


# ---- models ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        (["-p", "p=2"], "not a probability"),
        (["-p", "us_war=5"], "us_win > us_acquiesce > us_war"),
        (["-p", "su_defy=-9"], "su_defy > su_withdraw > su_war"),
    ],
)
def test_brinkmanship_bad_params_are_clean_errors(args, message) -> None:  # type: ignore[no-untyped-def]
    r = run("model", "brinkmanship", *args)
    assert r.returncode == 2 and message in r.stderr.replace("\n", " ")
    assert "Traceback" not in r.stderr


def test_models_name_their_concept_beliefs_and_the_check_q() -> None:
    doc = json.loads(run("model", "brinkmanship", "-p", "p=1/2", "-f", "json").stdout)
    assert doc["pygambit_check"]["q"] == "17/48"  # the middle of 1/3 < q < 3/8
    assert "subgame-perfect" in doc["concept"]
    r = run("model", "brinkmanship", "-p", "p=1/2")
    assert "at q = 17/48" in r.stdout
    z = run("model", "zagare", "--no-check")
    assert "passive off-path beliefs" in z.stdout and "deterrence" in z.stdout
    c = run("model", "chicken", "--no-check")
    assert "argues against" in c.stdout and "Nash equilibria" in c.stdout


# ---- the crisis tree (structure only: the stand-ins' choices may change) -----------------


@pytest.fixture(scope="module")
def cuba_two():  # type: ignore[no-untyped-def]
    from crisislab.cli.gt import _start_turn
    from crisislab.gt.tree import build_tree
    from crisislab.scenario.loader import load_scenario

    sc = load_scenario("cuba-1962")
    return build_tree(
        sc, start_turn=_start_turn(sc, None), depth=2, samples=20, seed=0, players=["usa", "ussr"]
    )


def _gambit_subgame_regret(st, root: int, profile) -> Fraction:  # type: ignore[no-untyped-def]
    """pygambit's max regret of ``profile`` restricted to the subgame at ``root``."""
    game = to_gambit(st.tree, root, keyed=True)
    g = game.mixed_behavior_profile(rational=True)
    for p in game.players:
        for info in p.infosets:
            row = profile[int(info.label[1:])]
            for a, x in zip(info.actions, row, strict=True):
                f = Fraction(x)
                g[a] = gbt.Rational(f.numerator, f.denominator)
    return exact(g.max_regret())


def test_crisis_nash_profile_that_is_not_subgame_perfect_is_labelled(cuba_two) -> None:  # type: ignore[no-untyped-def]
    tree = cuba_two.tree
    res = solve_game(to_gambit(tree), "lcp")
    roots = [
        r
        for r, is_root in enumerate(tree.subgame_roots())
        if is_root and r > 0 and tree.player[r] != TERMINAL
    ]
    for eq, prof in zip(res.equilibria, res.profiles, strict=True):
        assert gambit_regret(to_gambit(tree), prof) == 0
        perfect = all(_gambit_subgame_regret(cuba_two, r, prof) == 0 for r in roots)
        assert eq.subgame_perfect is perfect  # checked against pygambit, subgame by subgame
        if not perfect:
            assert eq.subgame_failures
            assert any("not subgame-perfect" in n for n in res.notes)
    for eq in solve_game(to_gambit(tree), "spe").equilibria:
        assert eq.subgame_perfect is True


def test_crisis_path_in_words_has_dates_stand_ins_and_ties(cuba_two) -> None:  # type: ignore[no-untyped-def]
    import re

    from crisislab.gt.regret import node_values
    from crisislab.gt.tree import describe_path

    tree = cuba_two.tree
    res = solve_game(to_gambit(tree), "spe")
    prof = res.profiles[0]
    words = describe_path(cuba_two, prof)
    assert all(re.match(r"\d{4}-\d\d-\d\d", w) for w in words)
    values = node_values(tree, prof)
    n, decisions = 0, [w for w in words if " chooses " in w]
    k = 0
    while tree.player[n] != TERMINAL:
        for line in cuba_two.notes[n].before:  # the stand-ins' moves on the way here
            assert any(line.partition(": ")[2] in w for w in words)
        row = prof[tree.infoset[n]] if tree.player[n] >= 0 else tree.probs[n]
        i = max(range(len(row)), key=lambda j: row[j])
        if tree.player[n] >= 0:
            who = tree.player[n]
            kids = tree.children[n]
            tied = sum(1 for c in kids if values[c][who] == values[kids[i]][who]) > 1
            assert ("TIED with" in decisions[k]) is tied
            k += 1
        n = tree.children[n][i]
    assert k == len(decisions)


def test_entry_deterrence_threat_is_labelled_not_subgame_perfect() -> None:
    """(stay out, fight) is a Nash equilibrium held up by a threat the incumbent would not
    carry out: enumpure finds it, and it is labelled."""
    game = read_game(DATA / "entry_deterrence.efg")
    res = solve_game(game, "enumpure")
    flags = sorted(
        (e.strategy["Entrant"]["enter?"]["out"] == 1, e.subgame_perfect) for e in res.equilibria
    )
    assert flags == [(False, True), (True, False)]
    bad = next(e for e in res.equilibria if e.subgame_perfect is False)
    assert bad.subgame_failures[0]["gains"] == {"Incumbent": 2}  # accommodate: 1 vs -1


@pytest.mark.parametrize(
    "change,words",
    [
        (lambda r: [r[0] * Fraction(9, 10), *r[1:]], "add up to 0.9"),
        (lambda r: [r[0] + 1, -1 + r[1] * 0, *r[2:]] if len(r) > 1 else r, "negative"),
        (lambda r: [float("nan")] * len(r), "not a number"),
        (lambda r: r[:-1], "probabilities for"),
    ],
)
def test_a_broken_profile_is_named_not_scored(change, words) -> None:  # type: ignore[no-untyped-def]
    from crisislab.gt.regret import profile_problem

    tree = from_gambit(read_game(DATA / "kuhn_poker.efg"))
    good = solve_game(read_game(DATA / "kuhn_poker.efg"), "lp").profiles[0]
    assert profile_problem(tree, good) is None
    bad = [list(r) for r in good]
    bad[0] = change(bad[0])
    problem = profile_problem(tree, bad)
    assert problem is not None and words in problem


def test_table_regret_by_brute_force_matches_pygambit() -> None:
    from crisislab.gt.regret import table_gains, table_payoffs

    for name in ("matching_pennies.nfg", "three_player_random.nfg", "random_3x3.nfg"):
        game = read_game(DATA / name)
        sizes, cells = table_payoffs(game)
        for idx in itertools.product(*(range(k) for k in sizes)):
            mix = [
                [Fraction(int(j == i)) for j in range(k)] for i, k in zip(idx, sizes, strict=True)
            ]
            _, gains = table_gains(sizes, cells, mix)
            assert max(gains) == gambit_regret(game, mix), (name, idx)
