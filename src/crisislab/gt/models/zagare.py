"""Deterrence under two-sided incomplete information, after Zagare's account of the crisis.

Source: Zagare, F. C., "A Game-Theoretic History of the Cuban Missile Crisis",
*Economies* 2(1) (2014): 20-44, doi:10.3390/economies2010020 (open access), section 5,
which explains the crisis with the incomplete-information deterrence models of Zagare
and Kilgour, *Perfect Deterrence* (Cambridge University Press, 2000). This module
implements the reduced, one-stage form of that family (challenge, resist or concede,
back down or fight) and derives its perfect Bayesian equilibria here; it does not
reproduce the two-stage Asymmetric Escalation Game's full tables.

The Soviet Union (Challenger) deploys or keeps the status quo; the United States
(Defender) resists or concedes; after resistance the Challenger backs down or fights.
Each side knows its own type, not the other's: the Challenger is *hard* (prefers
fighting to backing down) with probability ``p_ch``, the Defender *hard* (prefers
fighting to conceding) with probability ``p_d``: the credibility of each side's threat.

Payoffs (challenger, defender): status quo (sq_c, sq_d); defender concedes (1, dc_d);
challenger backs down (bd_c, cb_d); conflict (w_c of its type, w_d of its type), with
1 > sq_c > bd_c, hard w_c > bd_c > soft w_c, sq_d > cb_d > dc_d, hard w_d > dc_d > soft
w_d.

Equilibria (generic parameters), with
``pi* = (cb_d - dc_d) / (cb_d - w_d_soft)`` (the belief that the challenger is hard at
which a soft defender is indifferent) and ``p_s = (1 - sq_c) / (1 - bd_c)`` (the
credibility of the defender above which a soft challenger stays put):

- **status quo**: no type challenges; exists iff ``w_c_hard <= sq_c`` (a resisting
  defender is then a sufficient threat, off the path);
- **separating**: only the hard challenger challenges, the soft defender concedes;
  exists iff ``p_d >= p_s`` and ``p_d w_c_hard + (1 - p_d) >= sq_c``;
- **pooling**: both types challenge, the soft defender concedes; exists iff
  ``p_ch >= pi*`` and ``p_d <= p_s``;
- **bluff**: the hard challenger challenges, the soft one with probability
  ``s = p_ch (1 - pi*) / ((1 - p_ch) pi*)``, and a soft defender resists with
  probability ``r = 1 - (sq_c - bd_c) / ((1 - p_d)(1 - bd_c))``; exists iff
  ``p_ch < pi*``, ``p_d < p_s`` and the hard challenger gains at least ``sq_c``.

The historical path (challenge, resistance, Soviet retreat) is the path of the pooling
and bluff equilibria when the Soviet leadership was soft and the American one hard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction as F

import pygambit as gbt

from crisislab.gt.build import tree_game

SOURCE = ("Zagare, 'A Game-Theoretic History of the Cuban Missile Crisis', Economies 2(1) "
          "(2014) 20-44, s. 5; Zagare and Kilgour, Perfect Deterrence (2000)")
CH, DEF = "USSR", "USA"


@dataclass(frozen=True)
class Params:
    p_ch: F = F(2, 5)  # probability the Soviet leadership would fight rather than retreat
    p_d: F = F(1, 5)  # Soviet estimate that the United States would fight, not concede
    sq_c: F = F(1, 2)
    bd_c: F = F(1, 4)
    w_c_hard: F = F(3, 8)
    w_c_soft: F = F(0)
    sq_d: F = F(1)
    cb_d: F = F(3, 4)
    dc_d: F = F(1, 2)
    w_d_hard: F = F(5, 8)
    w_d_soft: F = F(1, 4)


@dataclass(frozen=True)
class Family:
    name: str
    exists: bool
    condition: str
    # behaviour: P(challenge | hard), P(challenge | soft), P(soft defender resists)
    challenge_hard: F
    challenge_soft: F
    resist_soft: F
    belief: F  # defender's belief that a challenger is hard, after a challenge


@dataclass(frozen=True)
class ZagareResult:
    params: Params
    pi_star: F
    p_s: F
    families: tuple[Family, ...] = field(default_factory=tuple)
    source: str = SOURCE

    @property
    def equilibria(self) -> tuple[Family, ...]:
        return tuple(f for f in self.families if f.exists)


def _v(pr: Params, w: F, r: F) -> F:
    """A challenger's value of challenging when a soft defender resists with prob. r and
    a resisted challenger of this type gets w."""
    return pr.p_d * w + (1 - pr.p_d) * (r * w + (1 - r))


def analyse(pr: Params = Params()) -> ZagareResult:
    pi_star = (pr.cb_d - pr.dc_d) / (pr.cb_d - pr.w_d_soft)
    p_s = (1 - pr.sq_c) / (1 - pr.bd_c)
    fams = [
        Family("status quo", pr.w_c_hard <= pr.sq_c, "w_c_hard <= sq_c",
               F(0), F(0), F(1), F(0)),
        Family("separating", pr.p_d >= p_s and _v(pr, pr.w_c_hard, F(0)) >= pr.sq_c,
               "p_d >= p_s and p_d w_c_hard + (1 - p_d) >= sq_c", F(1), F(0), F(0), F(1)),
        Family("pooling", pr.p_ch >= pi_star and pr.p_d <= p_s,
               "p_ch >= pi* and p_d <= p_s", F(1), F(1), F(0), pr.p_ch),
    ]
    r = 1 - (pr.sq_c - pr.bd_c) / ((1 - pr.p_d) * (1 - pr.bd_c)) if pr.p_d < 1 else F(0)
    s = pr.p_ch * (1 - pi_star) / ((1 - pr.p_ch) * pi_star) if pr.p_ch < 1 else F(1)
    bluff = (pr.p_ch < pi_star and pr.p_d < p_s and 0 < r < 1
             and _v(pr, pr.w_c_hard, r) >= pr.sq_c)
    fams.append(Family("bluff", bluff, "p_ch < pi*, p_d < p_s and the hard challenger "
                       "gains at least sq_c", F(1), s, r, pi_star))
    return ZagareResult(pr, pi_star, p_s, tuple(fams))


def game(pr: Params = Params()) -> gbt.Game:
    """The model as a tree: nature draws both types, each side sees only its own."""
    def challenger(ct: str, dt: str) -> tuple:  # type: ignore[type-arg]
        wc = pr.w_c_hard if ct == "hard" else pr.w_c_soft
        wd = pr.w_d_hard if dt == "hard" else pr.w_d_soft
        return ("p", CH, f"{ct} challenger", [
            ("status quo", ("t", "status quo", [pr.sq_c, pr.sq_d])),
            ("challenge", ("p", DEF, f"{dt} defender", [
                ("concede", ("t", "United States concedes", [F(1), pr.dc_d])),
                ("resist", ("p", CH, f"{ct} challenger, resisted", [
                    ("back down", ("t", "Soviets back down", [pr.bd_c, pr.cb_d])),
                    ("fight", ("t", f"conflict ({ct}/{dt})", [wc, wd]))]))]))])

    root = ("c", [(f"{ct} USSR", pc, ("c", [(f"{dt} USA", pd, challenger(ct, dt))
                                             for dt, pd in (("hard", pr.p_d),
                                                            ("soft", 1 - pr.p_d))]))
                  for ct, pc in (("hard", pr.p_ch), ("soft", 1 - pr.p_ch))])
    return tree_game("Deterrence with two-sided incomplete information (after Zagare)",
                     [CH, DEF], root)


def profile_of(g: gbt.Game, fam: Family) -> gbt.MixedBehaviorProfile:
    """A family's behaviour as a rational pygambit profile of :func:`game` (sequential
    choices at the last stage: hard fights, soft backs down; hard defenders resist)."""
    prof = g.mixed_behavior_profile(rational=True)
    for info in g.infosets:
        if info.is_chance:
            continue
        label = info.label
        probs: list[F]
        if label.endswith("challenger"):
            c = fam.challenge_hard if label.startswith("hard") else fam.challenge_soft
            probs = [1 - c, c]
        elif label.endswith("resisted"):
            probs = [F(0), F(1)] if label.startswith("hard") else [F(1), F(0)]
        else:
            r = F(1) if label.startswith("hard") else fam.resist_soft
            probs = [1 - r, r]
        for a, x in zip(info.actions, probs, strict=True):
            prof[a] = gbt.Rational(x.numerator, x.denominator)
    return prof
