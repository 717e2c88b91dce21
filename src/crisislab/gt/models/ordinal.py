"""Howard's metagame analysis of 2x2 ordinal games (the tables of :mod:`chicken`).

Source: Howard, N., *Paradoxes of Rationality: Theory of Metagames and Political
Behavior* (MIT Press, 1971); the crisis readings it was applied to are surveyed in
Zagare, "A Game-Theoretic History of the Cuban Missile Crisis", *Economies* 2(1) (2014)
20-44, s. 3. Howard's own ranking of the crisis's outcomes could not be consulted for this
build, so no "Howard" table ships; the analysis below applies to any 2x2 table
(``gt model chicken --param ...``).

In the metagame 2G the column player picks a policy, a reply to each row strategy (4
policies); in 12G the row player picks a reply to each of those policies (16), so it
answers the column player's answer. An outcome is an equilibrium outcome of a metagame
when the metagame has a pure equilibrium that produces it. Derived here for two players:

- in 2G, ``(r, c)`` is an equilibrium outcome iff c is a best reply to r and
  ``u_row(r, c) >= max_r' min_c' u_row`` (the row player's security level: the column
  player's policy can punish any other row strategy);
- in 12G, iff ``u_row >= max_r min_c u_row`` and ``u_col >= min_r max_c u_col`` (the row
  player's policy can punish any policy of the column player, which can still pick its
  best reply to each row strategy); 21G is the mirror image;
- the symmetric metaequilibria, equilibrium outcomes of both 12G and 21G, are therefore
  the outcomes where each player gets at least ``min_(other) max_(own) u``: what it can
  secure when it may answer the other's choice.

In Chicken this makes the compromise a symmetric metaequilibrium beside the two pure Nash
equilibria; in the Prisoners' Dilemma, mutual cooperation and mutual defection.
:func:`metagame` builds 12G, 21G or 2G as a pygambit table, so the tests check these
conditions against the pure equilibria pygambit finds there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from crisislab.extras import missing_extra
from crisislab.gt.build import table_game
from crisislab.gt.models.chicken import Cell, Params

with missing_extra("gt"):
    import pygambit as gbt

CELLS: tuple[Cell, ...] = ((0, 0), (0, 1), (1, 0), (1, 1))
SOURCE = "Howard, Paradoxes of Rationality (1971); surveyed in Zagare, Economies 2(1) (2014), s. 3"


def _u(p: Params, who: int, r: int, c: int) -> int:
    return p.payoff((r, c))[who]


def security(p: Params, who: int) -> int:
    """max over own strategies of min over the other's: what a player can guarantee."""
    if who == 0:
        return max(min(_u(p, 0, r, c) for c in (0, 1)) for r in (0, 1))
    return max(min(_u(p, 1, r, c) for r in (0, 1)) for c in (0, 1))


def answering(p: Params, who: int) -> int:
    """min over the other's strategies of max over own: what a player secures when it
    may answer the other's choice."""
    if who == 0:
        return min(max(_u(p, 0, r, c) for r in (0, 1)) for c in (0, 1))
    return min(max(_u(p, 1, r, c) for c in (0, 1)) for r in (0, 1))


def metaequilibria(p: Params, order: str) -> tuple[Cell, ...]:
    """Equilibrium outcomes of the metagame ``order`` G: "1", "2", "12" or "21"
    (1 = row player, 2 = column player), in closed form."""
    out = []
    for r, c in CELLS:
        u0, u1 = p.payoff((r, c))
        if order == "2":
            ok = u1 >= _u(p, 1, r, 1 - c) and u0 >= security(p, 0)
        elif order == "1":
            ok = u0 >= _u(p, 0, 1 - r, c) and u1 >= security(p, 1)
        elif order == "12":
            ok = u0 >= security(p, 0) and u1 >= answering(p, 1)
        elif order == "21":
            ok = u1 >= security(p, 1) and u0 >= answering(p, 0)
        else:
            raise ValueError(f"metagame order must be 1, 2, 12 or 21, not {order!r}")
        if ok:
            out.append((r, c))
    return tuple(out)


def symmetric_metaequilibria(p: Params) -> tuple[Cell, ...]:
    both = set(metaequilibria(p, "12")) & set(metaequilibria(p, "21"))
    return tuple(c for c in CELLS if c in both)


@dataclass(frozen=True)
class MetagameResult:
    security: tuple[int, int]  # max-min of each player
    answering: tuple[int, int]  # min-max of each player
    by_order: dict[str, tuple[Cell, ...]]
    symmetric: tuple[Cell, ...]
    source: str = SOURCE


def analyse(p: Params) -> MetagameResult:
    return MetagameResult(
        (security(p, 0), security(p, 1)),
        (answering(p, 0), answering(p, 1)),
        {o: metaequilibria(p, o) for o in ("1", "2", "12", "21")},
        symmetric_metaequilibria(p),
    )


Policy = tuple[int, ...]


def _policies(n_in: int) -> list[Policy]:
    return list(itertools.product((0, 1), repeat=n_in))


def metagame(p: Params, order: str) -> tuple[gbt.Game, list[tuple[Cell, ...]]]:
    """The metagame as a pygambit table, and the base outcome of each of its cells
    (indexed ``[row strategy][column strategy]``)."""
    if order in ("1", "2"):
        f_pol = _policies(2)  # the answering player's replies to the other's 2 strategies
        rows = range(2) if order == "2" else range(len(f_pol))
        cols = range(len(f_pol)) if order == "2" else range(2)

        def cell(i: int, j: int) -> Cell:
            return (i, f_pol[j][i]) if order == "2" else (f_pol[i][j], j)
    elif order in ("12", "21"):
        inner = _policies(2)  # 4 policies of the inner player
        outer = _policies(len(inner))  # 16 replies of the outer player to those
        if order == "12":
            rows, cols = range(len(outer)), range(len(inner))

            def cell(i: int, j: int) -> Cell:
                r = outer[i][j]
                return (r, inner[j][r])
        else:
            rows, cols = range(len(inner)), range(len(outer))

            def cell(i: int, j: int) -> Cell:
                c = outer[j][i]
                return (inner[i][c], c)
    else:
        raise ValueError(f"metagame order must be 1, 2, 12 or 21, not {order!r}")
    cells = [[cell(i, j) for j in cols] for i in rows]
    pay = [
        [[p.payoff(cells[i][j])[k] for j in range(len(cols))] for i in range(len(rows))]
        for k in (0, 1)
    ]
    names = [[f"r{i}" for i in rows], [f"c{j}" for j in cols]]
    g = table_game(f"metagame {order}G", [p.row, p.column], names, pay)
    return g, [tuple(row) for row in cells]
