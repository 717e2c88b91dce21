"""The classic models: published conditions in closed form, and the same games solved
by pygambit."""

from __future__ import annotations

from fractions import Fraction as F

import pygambit as gbt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.gt.flat import exact
from crisislab.gt.models import brinkmanship, chicken, zagare

CHICKEN_CASES = [
    # params, pure equilibria, mixed (P(row swerves), P(column swerves)), non-myopic
    ("chicken", chicken.Params(), [(0, 1), (1, 0)], [(F(1, 2), F(1, 2))], [(0, 0)]),
    ("prisoners dilemma", chicken.PRISONERS_DILEMMA, [(1, 1)], [], [(0, 0), (1, 1)]),
]


@pytest.mark.parametrize("name,params,pure,mixed,nme", CHICKEN_CASES,
                         ids=[c[0] for c in CHICKEN_CASES])
def test_ordinal_games(name, params, pure, mixed, nme) -> None:
    r = chicken.analyse(params)
    assert list(r.pure) == pure
    assert list(r.mixed) == mixed
    # Brams: the compromise is non-myopically stable in Chicken and in the dilemma
    assert list(r.non_myopic) == nme
    # the same game through pygambit: all equilibria, exactly
    g = chicken.game(params)
    eqs = gbt.nash.enummixed_solve(g, rational=True).equilibria
    s0, s1 = (list(pl.strategies)[0] for pl in g.players)
    got = sorted((exact(e[s0]), exact(e[s1])) for e in eqs)
    want = sorted([(F(1 - r_), F(1 - c)) for r_, c in pure] + mixed)
    assert got == want


def test_chicken_mixed_payoff_is_five_halves() -> None:
    assert chicken.analyse().mixed_payoffs == ((F(5, 2), F(5, 2)),)


ranks = st.permutations([1, 2, 3, 4])


@settings(max_examples=200, deadline=None)
@given(ranks, ranks)
def test_mixed_equilibrium_formula_matches_pygambit(row, col) -> None:
    cells = [(0, 0), (0, 1), (1, 0), (1, 1)]
    p = chicken.Params(**{k: (row[i], col[i]) for i, k in enumerate(("cc", "cd", "dc", "dd"))})
    closed = chicken.mixed_equilibrium(p)
    g = chicken.game(p)
    s0, s1 = (list(pl.strategies)[0] for pl in g.players)
    eqs = gbt.nash.enummixed_solve(g, rational=True).equilibria
    interior = [(exact(e[s0]), exact(e[s1])) for e in eqs if 0 < exact(e[s0]) < 1
                and 0 < exact(e[s1]) < 1]
    assert interior == ([closed] if closed else [])
    pure = sorted(c for c in cells if any(exact(e[s0]) == 1 - c[0] and exact(e[s1]) == 1 - c[1]
                                          for e in eqs))
    assert pure == sorted(chicken.pure_equilibria(p))


BRINK = [
    # p, effectiveness bound, acceptability bound, window (Dixit-Skeath numbers)
    (F(1, 3), F(1, 3), F(3, 4), (F(1, 3), F(3, 4))),
    (F(1, 2), F(1, 3), F(3, 8), (F(1, 3), F(3, 8))),
    (F(3, 5), F(1, 3), F(1, 4), None),
]


@pytest.mark.parametrize("p,lo,hi,window", BRINK, ids=[str(b[0]) for b in BRINK])
def test_brinkmanship_published_conditions(p, lo, hi, window) -> None:
    r = brinkmanship.analyse(brinkmanship.Params(p=p))
    assert r.q_effective == lo  # q > 1/3
    assert r.q_acceptable == hi == F(3, 8) * (1 - p) / p  # q < 0.375 (1 - p) / p
    assert r.window == window
    assert r.p_max == F(9, 17)  # about 0.53


@settings(max_examples=60, deadline=None)
@given(st.fractions(F(1, 50), F(49, 50), max_denominator=50),
       st.fractions(F(1, 50), F(49, 50), max_denominator=50))
def test_brinkmanship_window_is_where_pygambit_threatens(p, q) -> None:
    pr = brinkmanship.Params(p=p)
    r = brinkmanship.analyse(pr)
    if q in (r.q_effective, r.q_acceptable):
        return  # knife-edge: both choices are equilibria
    g = brinkmanship.game(pr, q)
    eqs = gbt.nash.lcp_solve(g, rational=True).equilibria
    us = next(i for i in g.infosets if i.player.label == "USA")
    threaten = list(us.actions)[1]
    predicted = r.window is not None and r.window[0] < q < r.window[1]
    assert all((e[threaten] == 1) == predicted for e in eqs)


ZAGARE = [
    ("defaults: bluff", zagare.Params(), {"status quo", "bluff"}),
    ("credible US: separating", zagare.Params(p_d=F(4, 5)), {"status quo", "separating"}),
    ("hard Soviets likely: pooling", zagare.Params(p_ch=F(3, 5)), {"status quo", "pooling"}),
    ("hard Soviets prefer war to status quo", zagare.Params(w_c_hard=F(3, 5), p_ch=F(3, 5)),
     {"pooling"}),
]


@pytest.mark.parametrize("name,params,families", ZAGARE, ids=[z[0] for z in ZAGARE])
def test_zagare_conditions_and_pygambit(name, params, families) -> None:
    r = zagare.analyse(params)
    assert {f.name for f in r.equilibria} == families
    g = zagare.game(params)
    for fam in r.families:  # exact regret of each family's profile, by pygambit
        regret = zagare.profile_of(g, fam).max_regret()
        assert (regret == 0) == fam.exists, fam.name
    # every equilibrium pygambit finds is on the path of a family that exists
    for eq in gbt.nash.lcp_solve(g, rational=True).equilibria:
        ch = {i.label: eq[list(i.actions)[1]] for i in g.infosets
              if i.label.endswith("challenger")}
        on_path = {(F(0), F(0)): "status quo", (F(1), F(0)): "separating",
                   (F(1), F(1)): "pooling"}.get((exact(ch["hard challenger"]),
                                                 exact(ch["soft challenger"])), "bluff")
        assert on_path in families


def test_zagare_closed_form_numbers() -> None:
    r = zagare.analyse()
    assert r.pi_star == F(1, 2) and r.p_s == F(2, 3)
    bluff = next(f for f in r.families if f.name == "bluff")
    assert (bluff.challenge_soft, bluff.resist_soft) == (F(2, 3), F(7, 12))
