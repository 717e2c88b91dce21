"""Brinkmanship in the crisis: Dixit and Skeath's probabilistic-threat model.

Source: Dixit, A. and Skeath, S., *Games of Strategy*, 2nd ed. (W. W. Norton, 2004),
chapter 14, "Brinkmanship: the Cuban missile crisis"; after Schelling, T. C., *The
Strategy of Conflict* (1960), ch. 8, "the threat that leaves something to chance".

The United States either acquiesces or makes a threat that, if the Soviets defy it,
ends in mutual disaster with probability ``q`` (and otherwise leaves the United States
acquiescing after all). The Soviet leadership is hard-line with probability ``p`` (it
defies whatever the risk) and soft otherwise (it chooses). Default payoffs are the
book's: the United States gets 1 if the Soviets withdraw, -2 if it acquiesces, -10 in a
nuclear war; the soft Soviets -2 if they withdraw, 1 if they keep the missiles
unpunished, -8 in a war.

Derived here in closed form (the book's two conditions):

- **effectiveness** (the soft Soviets withdraw): ``q > (S_defy - S_withdraw) /
  (S_defy - S_war)``, with the default numbers ``q > 1/3``;
- **acceptability** (the threat is worth more to the United States than acquiescing):
  ``q < (1 - p) (U_win - U_acquiesce) / (p (U_acquiesce - U_war))``, by default
  ``q < 0.375 (1 - p) / p``;
- a window of effective and acceptable ``q`` exists iff ``p`` is below
  ``A B / (A B + C D)`` with A = U_win - U_acquiesce, B = S_defy - S_war,
  C = U_acquiesce - U_war, D = S_defy - S_withdraw: by default ``p < 9/17 ≈ 0.53``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction as F
from pathlib import Path

from crisislab.extras import missing_extra
from crisislab.gt.build import tree_game

with missing_extra("gt"):
    import pygambit as gbt

SOURCE = (
    "Dixit and Skeath, Games of Strategy, 2nd ed. (2004), ch. 14: the model, its "
    "payoffs and its two conditions; Schelling, The Strategy of Conflict (1960), ch. "
    "8: the idea of a threat that leaves something to chance"
)
CONCEPT = (
    "subgame-perfect equilibrium of the sequential game with chance: the United "
    "States moves first knowing only the prior p that the Soviets are hard-line; a "
    "hard-line Soviet leadership defies whatever the risk (it is not a player), a "
    "soft one best-responds; no beliefs are updated (nothing is observed before "
    "the Soviets move)"
)


class ParamsError(ValueError):
    """Parameters outside the model: the message names the condition broken."""


def validate(pr: Params) -> None:
    """The model's assumptions: p is a probability; each side ranks its outcomes as the
    book does (the United States: win > acquiesce > war; the soft Soviets: defy >
    withdraw > war)."""
    if not 0 <= pr.p <= 1:
        raise ParamsError(f"p = {pr.p} is not a probability: give a value from 0 to 1 (e.g. p=1/3)")
    if not pr.us_win > pr.us_acquiesce > pr.us_war:
        raise ParamsError(
            f"need us_win > us_acquiesce > us_war (got {pr.us_win}, {pr.us_acquiesce}, {pr.us_war})"
        )
    if not pr.su_defy > pr.su_withdraw > pr.su_war:
        raise ParamsError(
            f"need su_defy > su_withdraw > su_war (got {pr.su_defy}, {pr.su_withdraw}, {pr.su_war})"
        )


@dataclass(frozen=True)
class Params:
    p: F = F(1, 3)  # probability that the Soviet leadership is hard-line
    us_win: F = F(1)
    us_acquiesce: F = F(-2)
    us_war: F = F(-10)
    su_withdraw: F = F(-2)
    su_defy: F = F(1)
    su_war: F = F(-8)


@dataclass(frozen=True)
class BrinkmanshipResult:
    params: Params
    q_effective: F  # the threat works for q above this
    q_acceptable: F | None  # ... and is worth making for q below this (None: any q)
    window: tuple[F, F] | None
    p_max: F  # a window exists iff p < p_max
    source: str = SOURCE
    concept: str = CONCEPT


def check_q(res: BrinkmanshipResult) -> F:
    """The threat level at which the game is solved by pygambit for the check: the middle
    of the window, or 1/2 when there is no window."""
    return res.window[0] + (res.window[1] - res.window[0]) / 2 if res.window else F(1, 2)


def q_effective(pr: Params) -> F:
    return (pr.su_defy - pr.su_withdraw) / (pr.su_defy - pr.su_war)


def q_acceptable(pr: Params) -> F | None:
    if pr.p == 0:
        return None
    return (1 - pr.p) * (pr.us_win - pr.us_acquiesce) / (pr.p * (pr.us_acquiesce - pr.us_war))


def p_max(pr: Params) -> F:
    a, b = pr.us_win - pr.us_acquiesce, pr.su_defy - pr.su_war
    c, d = pr.us_acquiesce - pr.us_war, pr.su_defy - pr.su_withdraw
    return a * b / (a * b + c * d)


def analyse(pr: Params = Params()) -> BrinkmanshipResult:
    validate(pr)
    lo, hi = q_effective(pr), q_acceptable(pr)
    top = F(1) if hi is None else min(hi, F(1))
    window = (lo, top) if lo < top else None
    return BrinkmanshipResult(pr, lo, hi, window, p_max(pr))


def game(pr: Params, q: F) -> gbt.Game:
    """The model as a tree for a given threat level ``q``: for checking the conditions
    against pygambit's equilibria."""

    def risk(tag: str) -> tuple:  # type: ignore[type-arg]
        return (
            "c",
            [
                ("disaster", q, ("t", "nuclear war", [pr.us_war, pr.su_war])),
                (
                    "no disaster",
                    1 - q,
                    ("t", f"missiles stay ({tag})", [pr.us_acquiesce, pr.su_defy]),
                ),
            ],
        )

    root = (
        "p",
        "USA",
        "threaten?",
        [
            ("acquiesce", ("t", "United States acquiesces", [pr.us_acquiesce, pr.su_defy])),
            (
                "threaten",
                (
                    "c",
                    [
                        ("hard-line", pr.p, risk("hard-line")),
                        (
                            "soft",
                            1 - pr.p,
                            (
                                "p",
                                "USSR",
                                "soft leadership",
                                [
                                    (
                                        "withdraw",
                                        ("t", "Soviets withdraw", [pr.us_win, pr.su_withdraw]),
                                    ),
                                    ("defy", risk("soft")),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    )
    return tree_game(f"Brinkmanship (Dixit-Skeath), p={pr.p}, q={q}", ["USA", "USSR"], root)


def plot(pr: Params, path: Path) -> None:
    """The two conditions over (p, q), the window shaded."""
    import numpy as np

    from crisislab.extras import require

    matplotlib = require("matplotlib", "plot")
    matplotlib.use("Agg")
    plt = require("matplotlib.pyplot", "plot")

    ps = np.linspace(0.005, 0.995, 400)
    lo = float(q_effective(pr))
    hi = np.array(
        [
            float(
                q_acceptable(Params(**{**pr.__dict__, "p": F(x).limit_denominator(10**6)})) or 1.0
            )
            for x in ps
        ]
    )
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.axhline(lo, color="tab:blue", label=f"effectiveness: q > {lo:.3f}")
    ax.plot(ps, np.minimum(hi, 1.0), color="tab:red", label="acceptability: q < bound(p)")
    ax.fill_between(
        ps,
        lo,
        np.minimum(hi, 1.0),
        where=np.minimum(hi, 1.0) > lo,
        color="tab:green",
        alpha=0.3,
        label="effective and acceptable",
    )
    ax.axvline(float(pr.p), color="grey", ls=":", label=f"p = {float(pr.p):.2f}")
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="p: probability the Soviets are hard-line",
        ylabel="q: probability the threat ends in disaster",
        title="Brinkmanship window (Dixit and Skeath)",
    )
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
