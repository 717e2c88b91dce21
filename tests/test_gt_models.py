"""The classic models: published conditions in closed form, and the same games solved
by pygambit."""

from __future__ import annotations

from fractions import Fraction as F

import pygambit as gbt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisislab.gt.flat import exact
from crisislab.gt.models import brinkmanship, chicken, ordinal, zagare

CHICKEN_CASES = [
    # params, pure equilibria, mixed (P(row swerves), P(column swerves)), non-myopic
    ("chicken", chicken.Params(), [(0, 1), (1, 0)], [(F(1, 2), F(1, 2))], [(0, 0)]),
    ("prisoners dilemma", chicken.PRISONERS_DILEMMA, [(1, 1)], [], [(0, 0), (1, 1)]),
]


@pytest.mark.parametrize(
    "name,params,pure,mixed,nme", CHICKEN_CASES, ids=[c[0] for c in CHICKEN_CASES]
)
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
    interior = [
        (exact(e[s0]), exact(e[s1])) for e in eqs if 0 < exact(e[s0]) < 1 and 0 < exact(e[s1]) < 1
    ]
    assert interior == ([closed] if closed else [])
    pure = sorted(
        c for c in cells if any(exact(e[s0]) == 1 - c[0] and exact(e[s1]) == 1 - c[1] for e in eqs)
    )
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
@given(
    st.fractions(F(1, 50), F(49, 50), max_denominator=50),
    st.fractions(F(1, 50), F(49, 50), max_denominator=50),
)
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


# --- Howard's metagames ---------------------------------------------------------------

METAGAME_CASES = [
    # Howard's resolution of the dilemma: mutual cooperation is a symmetric
    # metaequilibrium beside mutual defection; in Chicken the compromise joins the two
    # Nash equilibria.
    ("prisoners dilemma", chicken.PRISONERS_DILEMMA, [(0, 0), (1, 1)]),
    ("chicken", chicken.Params(), [(0, 0), (0, 1), (1, 0)]),
]


@pytest.mark.parametrize(
    "name,params,symmetric", METAGAME_CASES, ids=[c[0] for c in METAGAME_CASES]
)
def test_symmetric_metaequilibria(name, params, symmetric) -> None:
    assert list(ordinal.symmetric_metaequilibria(params)) == symmetric
    # the first-level metagames add nothing to Nash in these two games
    assert set(ordinal.metaequilibria(params, "2")) == set(chicken.pure_equilibria(params))


def _pure_outcomes(p: chicken.Params, order: str) -> set[tuple[int, int]]:
    g, cells = ordinal.metagame(p, order)
    rows, cols = (list(pl.strategies) for pl in g.players)
    out = set()
    for e in gbt.nash.enumpure_solve(g).equilibria:
        i = next(k for k, st_ in enumerate(rows) if e[st_] == 1)
        j = next(k for k, st_ in enumerate(cols) if e[st_] == 1)
        out.add(cells[i][j])
    return out


@settings(max_examples=60, deadline=None)
@given(ranks, ranks)
def test_metagame_conditions_match_pygambit(row, col) -> None:
    """Closed-form metarationality against the pure equilibria of the metagame tables."""
    p = chicken.Params(**{k: (row[i], col[i]) for i, k in enumerate(("cc", "cd", "dc", "dd"))})
    for order in ("1", "2", "12", "21"):
        assert set(ordinal.metaequilibria(p, order)) == _pure_outcomes(p, order), order
    # every Nash equilibrium is a symmetric metaequilibrium
    assert set(chicken.pure_equilibria(p)) <= set(ordinal.symmetric_metaequilibria(p))


# --- Zagare: the Asymmetric Escalation Game with incomplete information -------------------

Z = zagare.Params


def _types(p_ch, hh, hs, sh, ss) -> zagare.Params:  # type: ignore[no-untyped-def]
    return Z(p_ch=F(p_ch), p_hh=F(hh), p_hs=F(hs), p_sh=F(sh), p_ss=F(ss))


ZAGARE = [
    # name, params, the derived families that exist (keys)
    (
        "defaults: capitulation or limited response",
        Z(),
        {"pool: no response in kind", "pool: HH and HS respond in kind"},
    ),
    (
        "credible US response: deterrence or bluff",
        _types("2/5", "1/10", "1/10", "2/5", "2/5"),
        {
            "deter: HH and HS respond in kind",
            "semi-separating at qE_strat_hard: HH and HS respond in kind",
        },
    ),
    (
        "HS mixes, deterrence",
        _types("3/5", "3/10", "1/2", "1/10", "1/10"),
        {"deter: HH responds in kind, HS mixes (s = s*_hard)"},
    ),
    (
        "HS mixes, challenge",
        _types("3/5", "1/10", "1/5", "1/10", "3/5"),
        {"pool: HH responds in kind, HS mixes (s = s*_hard)", "pool: no response in kind"},
    ),
    (
        "semi-separating, limited response",
        _types("1/10", "1/10", "1/10", "2/5", "2/5"),
        {
            "deter: no response in kind",
            "semi-separating at qE_strat_hard: HH and HS respond in kind",
        },
    ),
    (
        "semi-separating, HS mixes",
        _types("1/10", "1/10", "1/5", "2/5", "3/10"),
        {
            "deter: no response in kind",
            "semi-separating at qE_strat_hard: HH responds in kind, HS mixes (s = s*_hard)",
        },
    ),
    (
        "semi-separating at qE_strat_soft",
        _types("1/10", "1/10", "1/10", "1/10", "7/10"),
        {"deter: no response in kind", "semi-separating at qE_strat_soft: no response in kind"},
    ),
    ("outside the derived families", _types("3/10", "1/10", "1/10", "3/10", "1/2"), set()),
]


def _outcome_distribution(g: gbt.Game, prof: gbt.MixedBehaviorProfile) -> dict[str, F]:
    dist: dict[str, F] = {}
    for node in g.nodes:
        if node.is_terminal:
            o = node.outcome.label.split()[0]
            dist[o] = dist.get(o, F(0)) + exact(prof.realiz_prob(node))
    return {k: v for k, v in dist.items() if v}


def _verify(pr: zagare.Params, fam: zagare.Family) -> None:
    """The closed-form family against pygambit: a Nash equilibrium, sequentially rational
    at every information set it reaches, with the same outcomes and payoffs."""
    g = zagare.game(pr)
    prof = zagare.profile_of(g, fam)
    assert prof.max_regret() == 0, fam.key
    for info in g.infosets:
        if not info.is_chance and prof.infoset_prob(info) > 0:
            assert prof.infoset_regret(info) == 0, (fam.key, info.label)
    assert _outcome_distribution(g, prof) == {k: v for k, v in fam.outcomes.items() if v}
    ussr, usa = g.players
    assert (exact(prof.payoff(ussr)), exact(prof.payoff(usa))) == (
        fam.payoffs["USSR"],
        fam.payoffs["USA"],
    )


@pytest.mark.parametrize("name,params,keys", ZAGARE, ids=[z[0] for z in ZAGARE])
def test_zagare_families_and_pygambit(name, params, keys) -> None:
    r = zagare.analyse(params)
    assert {f.key for f in r.equilibria} == keys
    for fam in r.equilibria:
        _verify(params, fam)


def test_zagare_defaults_put_the_crisis_on_an_equilibrium_path() -> None:
    """The 1962 path as read here: the Soviets initiate, the US answers in kind, they stop."""
    r = zagare.analyse()
    th = r.thresholds
    assert (th["s*_hard"], th["s*_soft"]) == (F(2, 5), F(1, 5))
    assert (th["qE_strat_hard"], th["qE_strat_soft"]) == (F(3, 5), F(3, 8))
    assert th["sigma_tac_hard"] == F(3, 5) >= th["s*_hard"]
    fam = next(f for f in r.equilibria if f.key == "pool: HH and HS respond in kind")
    assert fam.initiate == {"hard": 1, "soft": 1}
    assert fam.response.defender == {"HH": {"D": 1}, "HS": {"D": 1}, "SH": {"C": 1}, "SS": {"C": 1}}
    assert fam.response.escalate == {"hard": 0, "soft": 0}
    assert fam.outcomes["DD"] == F(1, 2) == fam.outcomes["DC"]
    assert fam.values == {"hard": 70, "soft": 70}  # 1/2 * 100 + 1/2 * 40 >= c_sq = 60


def _with_tactical(t: F) -> zagare.Params:
    """Defaults with P(tactically Hard) = t, split 3:2 between HH and HS."""
    return Z(p_hh=3 * t / 5, p_hs=2 * t / 5, p_sh=(1 - t) / 10, p_ss=9 * (1 - t) / 10)


@pytest.mark.parametrize("t,initiate", [(F(2, 3) - F(1, 100), True), (F(2, 3) + F(1, 100), False)])
def test_initiation_flips_at_the_derived_threshold(t, initiate) -> None:
    """Both types initiate iff P(tactically Hard) <= (c_dc - c_sq) / (c_dc - c_dd) = 2/3."""
    r = zagare.analyse(_with_tactical(t))
    keys = {f.key for f in r.equilibria}
    assert ("pool: HH and HS respond in kind" in keys) is initiate
    assert ("deter: HH and HS respond in kind" in keys) is not initiate


@pytest.mark.parametrize("p_ch,sh", [(F(3, 5) + F(1, 100), "C"), (F(3, 5) - F(1, 100), "E")])
def test_us_escalation_flips_at_qE(p_ch, sh) -> None:
    """A strategically Hard, tactically Soft US escalates at once iff q < qE_strat_hard."""
    r = zagare.analyse(Z(p_ch=p_ch))
    assert r.thresholds["qE_strat_hard"] == F(3, 5)
    pool = next(f for f in r.families if f.key == "pool: HH and HS respond in kind")
    assert pool.response.defender["SH"] == {sh: 1}


@pytest.mark.parametrize(
    "hh,escalates", [(F(1, 5) + F(1, 100), False), (F(1, 5) - F(1, 100), True)]
)
def test_soviet_escalation_flips_at_s_star(hh, escalates) -> None:
    """After a response in kind a Hard USSR escalates iff p_hh / (p_hh + p_hs) < 2/5."""
    pr = Z(p_hh=hh, p_hs=F(1, 2) - hh)  # p_hh + p_hs = 1/2
    fam = next(f for f in zagare.analyse(pr).families if f.key == "pool: HH and HS respond in kind")
    assert fam.response.escalate["hard"] == (1 if escalates else 0)
    assert fam.exists is not escalates  # escalation makes the response in kind not worth it


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("p_ch", F(1), "0 < p_ch < 1"),
        ("p_hh", F(1, 2), "p_hh + p_hs + p_sh + p_ss = 1"),
        ("c_dd", F(55), "c_dd < c_ed"),
        ("d_dc", F(70), "d_dc < d_dd_hard"),
    ],
)
def test_zagare_params_name_the_broken_inequality(field, value, message) -> None:
    with pytest.raises(zagare.ParamsError, match=message.replace("+", r"\+")):
        Z(**{field: value})


def _chain(n: int):  # type: ignore[no-untyped-def]
    return st.lists(st.integers(0, 200), min_size=n, max_size=n, unique=True).map(
        lambda xs: [F(x) for x in sorted(xs)]
    )


@settings(max_examples=25, deadline=None)
@given(
    _chain(7), _chain(8), st.lists(st.integers(1, 9), min_size=4, max_size=4), st.integers(1, 19)
)
def test_every_derived_equilibrium_is_verified_by_pygambit(c, d, w, ch) -> None:
    names_c = ("c_ee_soft", "c_de", "c_ee_hard", "c_dd", "c_ed", "c_sq", "c_dc")
    names_d = ("d_ee_soft", "d_ed", "d_ee_hard", "d_dd_soft", "d_dc", "d_dd_hard", "d_de", "d_sq")
    probs = [F(x, sum(w)) for x in w]
    pr = Z(
        p_ch=F(ch, 20),
        p_hh=probs[0],
        p_hs=probs[1],
        p_sh=probs[2],
        p_ss=probs[3],
        **dict(zip(names_c, c, strict=True)),
        **dict(zip(names_d, d, strict=True)),
    )
    for fam in zagare.analyse(pr).equilibria:
        _verify(pr, fam)
