"""A game tree as plain arrays, for the solvers written here (backward induction, CFR,
best responses). Converted from and to pygambit; payoffs and chance probabilities are
exact fractions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from crisislab.extras import missing_extra

if TYPE_CHECKING:
    import pygambit as gbt

CHANCE = -1
TERMINAL = -2


def exact(x: Any) -> Fraction:
    """A pygambit number (Rational, Decimal, int, float) as a Fraction."""
    if isinstance(x, Fraction):
        return Fraction(x.numerator, x.denominator)
    if isinstance(x, Decimal):
        return Fraction(x)
    if isinstance(x, float):
        return Fraction(x).limit_denominator(10**12)
    return Fraction(x)


@dataclass
class InfosetInfo:
    player: int  # index into FlatTree.players
    number: int  # gambit's number within the player (0-based)
    label: str
    actions: tuple[str, ...]
    nodes: list[int] = field(default_factory=list)
    name: str = ""  # unique among the player's infosets, for output


@dataclass
class FlatTree:
    """Nodes are numbered in depth-first pre-order (the root is 0).

    ``player[n]`` is a player index, CHANCE or TERMINAL; ``children[n]`` follow the
    infoset's actions in order; ``probs[n]`` are chance probabilities; ``payoff[n]`` is
    the total payoff at a terminal node (outcomes met along the path added up)."""

    title: str
    players: tuple[str, ...]
    player: list[int]
    infoset: list[int]  # index into infosets (-1 for chance and terminal nodes)
    children: list[list[int]]
    parent: list[int]
    probs: list[list[Fraction]]
    payoff: list[tuple[Fraction, ...]]
    labels: list[str]
    infosets: list[InfosetInfo]
    chance_labels: list[tuple[str, ...]]

    @property
    def n_nodes(self) -> int:
        return len(self.player)

    @property
    def leaves(self) -> list[int]:
        return [n for n, p in enumerate(self.player) if p == TERMINAL]

    def is_perfect_information(self) -> bool:
        return all(len(i.nodes) == 1 for i in self.infosets)

    def action_labels(self, node: int) -> tuple[str, ...]:
        if self.player[node] == CHANCE:
            return self.chance_labels[node]
        return self.infosets[self.infoset[node]].actions

    def subtree_end(self) -> list[int]:
        """``end[n]``: one past the last pre-order index of n's subtree."""
        end = [0] * self.n_nodes
        for n in range(self.n_nodes - 1, -1, -1):
            end[n] = max([n + 1] + [end[c] for c in self.children[n]])
        return end

    def subgame_roots(self) -> list[bool]:
        """Nodes that start a subgame: every information set met below them lies wholly
        below them."""
        end = self.subtree_end()
        lo = [n for n in range(self.n_nodes)]
        hi = [n for n in range(self.n_nodes)]
        for info in self.infosets:
            a, b = min(info.nodes), max(info.nodes)
            for n in info.nodes:
                lo[n], hi[n] = a, b
        for n in range(self.n_nodes - 1, -1, -1):
            for c in self.children[n]:
                lo[n] = min(lo[n], lo[c])
                hi[n] = max(hi[n], hi[c])
        return [lo[n] >= n and hi[n] < end[n] for n in range(self.n_nodes)]


def _name_infosets(infosets: list[InfosetInfo], n_players: int) -> None:
    for p in range(n_players):
        mine = [i for i in infosets if i.player == p]
        labels = [i.label for i in mine]
        for info in mine:
            unique = info.label and labels.count(info.label) == 1
            info.name = info.label if unique else f"#{info.number + 1}"


def from_gambit(game: gbt.Game) -> FlatTree:
    """Flatten a pygambit extensive game."""
    if not game.is_tree:
        raise ValueError("not an extensive-form game")
    players = tuple(p.label or f"Player {i + 1}" for i, p in enumerate(game.players))
    pindex = {p.label: i for i, p in enumerate(game.players)}
    plist = list(game.players)
    tree = FlatTree(game.title, players, [], [], [], [], [], [], [], [], [])
    keys: dict[tuple[int, int], int] = {}
    for i, p in enumerate(plist):
        for info in p.infosets:
            keys[(i, info.number)] = len(tree.infosets)
            tree.infosets.append(
                InfosetInfo(i, info.number, info.label, tuple(a.label for a in info.actions))
            )
    _name_infosets(tree.infosets, len(players))
    zero = tuple(Fraction(0) for _ in players)
    stack: list[tuple[gbt.Node, int, tuple[Fraction, ...]]] = [(game.root, -1, zero)]
    while stack:
        node, parent, acc = stack.pop()
        n = len(tree.player)
        if node.outcome:
            acc = tuple(a + exact(node.outcome[pl]) for a, pl in zip(acc, plist, strict=True))
        tree.parent.append(parent)
        tree.labels.append(node.label)
        tree.children.append([])
        if parent >= 0:
            tree.children[parent].append(n)
        info = node.infoset
        if node.is_terminal:
            tree.player.append(TERMINAL)
            tree.infoset.append(-1)
            tree.probs.append([])
            tree.chance_labels.append(())
            tree.payoff.append(acc)
        elif info.is_chance:
            tree.player.append(CHANCE)
            tree.infoset.append(-1)
            tree.probs.append([exact(a.prob) for a in info.actions])
            tree.chance_labels.append(tuple(a.label for a in info.actions))
            tree.payoff.append(zero)
        else:
            pi = (
                pindex[info.player.label]
                if info.player.label in pindex
                else plist.index(info.player)
            )
            k = keys[(pi, info.number)]
            tree.player.append(pi)
            tree.infoset.append(k)
            tree.infosets[k].nodes.append(n)
            tree.probs.append([])
            tree.chance_labels.append(())
            tree.payoff.append(zero)
        for child in reversed(list(node.children)):
            stack.append((child, n, acc))
    return tree


def to_gambit(
    tree: FlatTree,
    root: int = 0,
    leaf_values: Mapping[int, Sequence[Fraction]] | None = None,
    keyed: bool = False,
) -> gbt.Game:
    """Build a pygambit game from ``tree`` below ``root``. Nodes in ``leaf_values`` become
    terminal nodes with those payoffs. With ``keyed``, infoset labels are ``k<index>`` so
    a solution can be mapped back to ``tree``."""
    with missing_extra("gt"):
        import pygambit as gbt

    leaf_values = leaf_values or {}
    game = gbt.Game.new_tree(players=list(tree.players), title=tree.title or "crisislab")
    plist = list(game.players)
    made: dict[int, Any] = {}
    outcomes: dict[tuple[Fraction, ...], Any] = {}

    def outcome_for(values: Sequence[Fraction], label: str) -> Any:
        key = tuple(values)
        if key not in outcomes:
            name = label or "o"
            base, k = name, 1
            while any(o.label == name for o in outcomes.values()):
                k += 1
                name = f"{base} ({k})"
            outcomes[key] = game.add_outcome(
                name, [gbt.Rational(v.numerator, v.denominator) for v in values]
            )
        return outcomes[key]

    stack: list[tuple[int, Any]] = [(root, game.root)]
    while stack:
        n, gnode = stack.pop()
        if tree.labels[n]:
            gnode.label = tree.labels[n]
        if n in leaf_values or tree.player[n] == TERMINAL:
            values = leaf_values[n] if n in leaf_values else tree.payoff[n]
            game.set_outcome(gnode, outcome_for(values, tree.labels[n]))
            continue
        if tree.player[n] == CHANCE:
            game.append_move(gnode, game.players.chance, list(tree.chance_labels[n]))
            game.set_chance_probs(
                gnode.infoset, [gbt.Rational(p.numerator, p.denominator) for p in tree.probs[n]]
            )
        else:
            k = tree.infoset[n]
            if k in made:
                game.append_infoset(gnode, made[k])
            else:
                info = tree.infosets[k]
                game.append_move(gnode, plist[tree.player[n]], list(info.actions))
                made[k] = gnode.infoset
                gnode.infoset.label = f"k{k}" if keyed else info.label
        kids = list(gnode.children)
        for c, gc in zip(tree.children[n], kids, strict=True):
            stack.append((c, gc))
    return game


def infoset_index(game: gbt.Game) -> dict[tuple[int, int], int]:
    """Map (player index, infoset number) of a pygambit game to the FlatTree index that
    :func:`from_gambit` gives the same infoset."""
    out: dict[tuple[int, int], int] = {}
    for i, p in enumerate(game.players):
        for info in p.infosets:
            out[(i, info.number)] = len(out)
    return out


def recall_violation(tree: FlatTree) -> tuple[int, int, int] | None:
    """The first information set whose nodes a player can tell apart by its own earlier
    moves (imperfect recall): (infoset index, two of its nodes), or None under perfect
    recall. Perfect recall: every node of an information set follows the same sequence
    of the player's own information sets and actions."""
    moves: list[tuple[tuple[int, int, int], ...]] = [()] * tree.n_nodes
    first: dict[int, tuple[int, tuple[tuple[int, int, int], ...]]] = {}
    for n in range(tree.n_nodes):  # pre-order: parents first
        p = tree.player[n]
        if p >= 0:
            k = tree.infoset[n]
            mine = tuple(m for m in moves[n] if m[0] == p)
            if k in first:
                if first[k][1] != mine:
                    return k, first[k][0], n
            else:
                first[k] = (n, mine)
        for i, c in enumerate(tree.children[n]):
            moves[c] = moves[n] + ((p, tree.infoset[n], i),) if p >= 0 else moves[n]
    return None


def own_history(tree: FlatTree, n: int) -> list[tuple[int, int]]:
    """The player at ``n``'s own earlier moves on the path to it: (infoset, action)."""
    who, path, m = tree.player[n], [], n
    while tree.parent[m] >= 0:
        par = tree.parent[m]
        if tree.player[par] == who:
            path.append((tree.infoset[par], tree.children[par].index(m)))
        m = par
    return path[::-1]


def recall_problem(tree: FlatTree) -> str | None:
    """Imperfect recall in words, or None."""
    v = recall_violation(tree)
    if v is None:
        return None
    k, a, b = v
    info = tree.infosets[k]
    who = tree.players[info.player]

    def named(name: str) -> str:
        return f"number {name[1:]}" if name.startswith("#") else f"'{name}'"

    def words(n: int) -> str:
        moves = [
            f"'{tree.infosets[i].actions[j] or j + 1}' at information set "
            f"{named(tree.infosets[i].name)}"
            for i, j in own_history(tree, n)
        ]
        return ", ".join(moves) if moves else "no earlier move of its own"

    return (
        f"{who}'s information set {named(info.name)} holds node {a + 1} (after "
        f"{words(a)}) "
        f"and node {b + 1} (after {words(b)}), which {who} could tell apart by its "
        "own earlier moves"
    )
