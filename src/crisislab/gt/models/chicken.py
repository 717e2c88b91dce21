"""Chicken, and 2x2 ordinal games in general, with their Nash equilibria (pure and mixed)
and Brams' non-myopic equilibria by the theory of moves.

Sources, and what each supports:

- Chicken as the *common* reading of the crisis, and a reading Brams rejects: Brams,
  S. J., "Game theory and the Cuban missile crisis", *Plus Magazine* 13 (January 2001),
  opens by noting that many analysts have read the crisis as nuclear Chicken, then argues
  that it is not well modelled as Chicken and analyses it with a different 2x2 ordinal
  game by the theory of moves (his table is in *Superpower Games*, Yale University Press,
  1985, ch. 1). Zagare, *Economies* 2(1) (2014) 20-44, in its account of Brams, summarises Brams as
  abandoning both the normal form and the Chicken analogy. So the default table here is
  the textbook Chicken (ranks 4 best, 1 worst), offered as the reading Brams argued
  against; Brams' own table is not shipped (it could not be checked for this build):
  pass it with ``--param``.
- The theory of moves and the non-myopic equilibrium: Brams, S. J., *Theory of Moves*
  (Cambridge University Press, 1994), chapter 1. Play starts at a cell; the players
  alternately may switch their own strategy, up to four moves (back to the start); each
  looks ahead by backward induction and stops when moving on would not end better for
  it. A cell is a non-myopic equilibrium when neither player, moving first, leaves it.

For the 1962 reading the row player is the United States (``swerve`` = blockade,
``straight`` = air strike) and the column player the Soviet Union (``swerve`` =
withdraw, ``straight`` = keep the missiles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from crisislab.extras import missing_extra
from crisislab.gt.build import table_game

with missing_extra("gt"):
    import pygambit as gbt

Cell = tuple[int, int]  # (row strategy, column strategy), 0 = swerve, 1 = straight
SOURCE = (
    "Chicken: the common reading of the crisis that Brams, 'Game theory and the "
    "Cuban missile crisis', Plus 13 (2001), describes and argues against (he models "
    "the crisis with another table, Superpower Games (1985)); non-myopic "
    "equilibria: Brams, Theory of Moves (1994), ch. 1"
)
CONCEPT = (
    "Nash equilibria of the one-shot game of complete information (pure and "
    "mixed; each player knows both payoff tables), and non-myopic equilibria of "
    "Brams' theory of moves (play starts at a cell and players may move on in "
    "turn, looking ahead by backward induction)"
)


@dataclass(frozen=True)
class Params:
    """Ordinal payoffs (row, column) per cell; defaults are Chicken."""

    cc: tuple[int, int] = (3, 3)  # both swerve: compromise
    cd: tuple[int, int] = (2, 4)  # row swerves, column does not
    dc: tuple[int, int] = (4, 2)
    dd: tuple[int, int] = (1, 1)  # collision: nuclear war
    row: str = "USA"
    column: str = "USSR"
    strategies: tuple[str, str] = ("swerve", "straight")

    def payoff(self, cell: Cell) -> tuple[int, int]:
        return {(0, 0): self.cc, (0, 1): self.cd, (1, 0): self.dc, (1, 1): self.dd}[cell]


PRISONERS_DILEMMA = Params(
    cc=(3, 3), cd=(1, 4), dc=(4, 1), dd=(2, 2), strategies=("cooperate", "defect")
)


@dataclass(frozen=True)
class OrdinalResult:
    params: Params
    pure: tuple[Cell, ...]
    mixed: tuple[tuple[Fraction, Fraction], ...]  # P(row swerves), P(column swerves)
    mixed_payoffs: tuple[tuple[Fraction, Fraction], ...]
    tom_outcome: dict[tuple[Cell, str], Cell] = field(default_factory=dict)
    non_myopic: tuple[Cell, ...] = ()
    source: str = SOURCE
    concept: str = CONCEPT


def pure_equilibria(p: Params) -> list[Cell]:
    out = []
    for r in (0, 1):
        for c in (0, 1):
            u = p.payoff((r, c))
            if u[0] >= p.payoff((1 - r, c))[0] and u[1] >= p.payoff((r, 1 - c))[1]:
                out.append((r, c))
    return out


def mixed_equilibrium(p: Params) -> tuple[Fraction, Fraction] | None:
    """The completely mixed equilibrium in closed form: each mixes to make the other
    indifferent. Column swerves with x = (d - b) / ((a - c) + (d - b)) for row payoffs
    a = cc, b = cd, c = dc, d = dd (and symmetrically for the row)."""
    a, b, c, d = (Fraction(p.payoff(cell)[0]) for cell in ((0, 0), (0, 1), (1, 0), (1, 1)))
    e, f, g, h = (Fraction(p.payoff(cell)[1]) for cell in ((0, 0), (0, 1), (1, 0), (1, 1)))
    den_col = (a - c) + (d - b)
    den_row = (e - f) + (h - g)
    if den_col == 0 or den_row == 0:
        return None
    x = (d - b) / den_col  # P(column swerves)
    y = (h - g) / den_row  # P(row swerves)
    if 0 < x < 1 and 0 < y < 1:
        return y, x
    return None


def tom_outcome(p: Params, start: Cell, first: str) -> Cell:
    """Where play from ``start`` ends when ``first`` ('row' or 'column') may move first."""
    cells = [start]
    mover = 0 if first == "row" else 1
    for k in range(4):
        r, c = cells[-1]
        cells.append((1 - r, c) if (mover + k) % 2 == 0 else (r, 1 - c))
    # cells[4] == start: backward induction from the last possible move
    survivor = cells[4]
    for k in range(3, 0, -1):
        who = (mover + k) % 2  # the player deciding whether to move on from cells[k]
        if p.payoff(survivor)[who] <= p.payoff(cells[k])[who]:
            survivor = cells[k]
    return start if p.payoff(survivor)[mover] <= p.payoff(start)[mover] else survivor


def analyse(p: Params = Params()) -> OrdinalResult:
    mixed = mixed_equilibrium(p)
    outcomes = {
        (cell, who): tom_outcome(p, cell, who)
        for cell in ((0, 0), (0, 1), (1, 0), (1, 1))
        for who in ("row", "column")
    }
    nme = tuple(
        cell
        for cell in ((0, 0), (0, 1), (1, 0), (1, 1))
        if outcomes[(cell, "row")] == cell and outcomes[(cell, "column")] == cell
    )
    mixed_pay: tuple[tuple[Fraction, Fraction], ...] = ()
    if mixed:
        y, x = mixed
        probs = {(0, 0): y * x, (0, 1): y * (1 - x), (1, 0): (1 - y) * x, (1, 1): (1 - y) * (1 - x)}
        mixed_pay = (
            (
                sum((pr * p.payoff(c)[0] for c, pr in probs.items()), Fraction(0)),
                sum((pr * p.payoff(c)[1] for c, pr in probs.items()), Fraction(0)),
            ),
        )
    return OrdinalResult(
        p, tuple(pure_equilibria(p)), (mixed,) if mixed else (), mixed_pay, outcomes, nme
    )


def game(p: Params = Params()) -> gbt.Game:
    a = [[p.payoff((r, c))[0] for c in (0, 1)] for r in (0, 1)]
    b = [[p.payoff((r, c))[1] for c in (0, 1)] for r in (0, 1)]
    return table_game(
        "Chicken (the common reading of the crisis)",
        [p.row, p.column],
        [list(p.strategies)] * 2,
        [a, b],
    )
