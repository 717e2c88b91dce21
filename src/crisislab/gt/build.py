"""Small builders for games written as data: nested tuples for trees, arrays for tables.

A tree node is one of

- ``("t", label, payoffs)``: a leaf;
- ``("c", [(label, probability, child), ...])``: chance;
- ``("p", player, infoset, [(action, child), ...])``: a decision; nodes that share
  ``(player, infoset)`` form one information set (so their actions must match).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from crisislab.extras import missing_extra

with missing_extra("gt"):
    import pygambit as gbt


def rational(x: Any) -> gbt.Rational:
    f = Fraction(x) if not isinstance(x, float) else Fraction(x).limit_denominator(10**9)
    return gbt.Rational(f.numerator, f.denominator)


def tree_game(title: str, players: Sequence[str], root: tuple) -> gbt.Game:  # type: ignore[type-arg]
    """Build an extensive game from nested tuples (see the module docstring)."""
    game = gbt.Game.new_tree(players=list(players), title=title)
    infosets: dict[tuple[str, str], Any] = {}
    outcomes: dict[str, Any] = {}
    stack: list[tuple[Any, tuple]] = [(game.root, root)]  # type: ignore[type-arg]
    while stack:
        node, spec = stack.pop()
        kind = spec[0]
        if kind == "t":
            label, payoffs = spec[1], spec[2]
            name = label
            if name in outcomes and outcomes[name][1] != tuple(payoffs):
                k = 2
                while f"{label} ({k})" in outcomes:
                    k += 1
                name = f"{label} ({k})"
            if name not in outcomes:
                outcomes[name] = (
                    game.add_outcome(name, [rational(v) for v in payoffs]),
                    tuple(payoffs),
                )
            game.set_outcome(node, outcomes[name][0])
            continue
        if kind == "c":
            branches = spec[1]
            game.append_move(node, game.players.chance, [b[0] for b in branches])
            game.set_chance_probs(node.infoset, [rational(b[1]) for b in branches])
            kids = [b[2] for b in branches]
        else:
            player, key, branches = spec[1], spec[2], spec[3]
            if (player, key) in infosets:
                game.append_infoset(node, infosets[(player, key)])
            else:
                game.append_move(node, player, [b[0] for b in branches])
                node.infoset.label = key
                infosets[(player, key)] = node.infoset
            kids = [b[1] for b in branches]
        for child_node, child in zip(node.children, kids, strict=True):
            stack.append((child_node, child))
    return game


def table_game(
    title: str, players: Sequence[str], strategies: Sequence[Sequence[str]], payoffs: Any
) -> gbt.Game:
    """A strategic game; ``payoffs[i]`` is player i's array, indexed by the strategies."""
    arrays = [np.array(p, dtype=object) for p in payoffs]
    game = gbt.Game.new_table([len(s) for s in strategies], title=title)
    for player, label, strats in zip(game.players, players, strategies, strict=True):
        player.label = label
        for s, name in zip(player.strategies, strats, strict=True):
            s.label = name
    for k, profile in enumerate(itertools.product(*(range(len(s)) for s in strategies))):
        strat = [list(p.strategies)[i] for p, i in zip(game.players, profile, strict=True)]
        out = game[strat]
        out.label = f"o{k + 1}"
        for player, arr in zip(game.players, arrays, strict=True):
            out[player] = rational(arr[profile])
    return game
