"""Counterfactual regret minimisation (CFR+, alternating updates, linear averaging) over a
:class:`FlatTree`, vectorised by tree depth with numpy.

CFR after Zinkevich, Johanson, Bowling and Piccione, "Regret minimization in games with
incomplete information" (NIPS 2007); the + variant after Tammelin, "Solving large
imperfect information games using CFR+" (2014). In two-player zero-sum games the average
strategy converges to a Nash equilibrium; in other games it is an approximation whose
quality the reported exploitability (NashConv, computed exactly by best responses) tells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crisislab.gt.flat import CHANCE, TERMINAL, FlatTree
from crisislab.gt.regret import nash_conv


@dataclass(frozen=True)
class CFRResult:
    profile: list[list[float]]  # infoset -> action probabilities (the average strategy)
    iterations: int
    nash_conv: float
    gains: tuple[float, ...]  # per player: what a best response gains
    history: tuple[tuple[int, float], ...]  # (iteration, NashConv) checkpoints


class _Arrays:
    def __init__(self, tree: FlatTree) -> None:
        n = tree.n_nodes
        self.n_players = len(tree.players)
        self.n_infosets = len(tree.infosets)
        sizes = [len(i.actions) for i in tree.infosets]
        self.offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.n_actions = int(self.offset[-1])
        self.act_infoset = np.repeat(np.arange(self.n_infosets), sizes)
        self.act_player = np.array(
            [tree.infosets[k].player for k in self.act_infoset], dtype=np.int64
        )
        depth = np.zeros(n, dtype=np.int64)
        parent = np.array(tree.parent, dtype=np.int64)
        owner = np.full(n, -1, dtype=np.int64)  # row of the reach matrix the edge belongs to
        gact = np.full(n, -1, dtype=np.int64)
        cprob = np.ones(n)
        for node in range(1, n):
            par = tree.parent[node]
            depth[node] = depth[par] + 1
            i = tree.children[par].index(node)
            if tree.player[par] == CHANCE:
                owner[node] = self.n_players
                cprob[node] = float(tree.probs[par][i])
            else:
                owner[node] = tree.player[par]
                gact[node] = self.offset[tree.infoset[par]] + i
        self.parent, self.owner, self.gact, self.cprob = parent, owner, gact, cprob
        self.levels = [np.flatnonzero(depth == d) for d in range(1, int(depth.max()) + 1)]
        self.terminal = np.array([p == TERMINAL for p in tree.player])
        pay = np.zeros((self.n_players, n))
        for leaf in np.flatnonzero(self.terminal):
            pay[:, leaf] = [float(x) for x in tree.payoff[int(leaf)]]
        self.payoff = pay
        self.first_node = np.array([info.nodes[0] for info in tree.infosets], dtype=np.int64)
        self.player_edges = [np.flatnonzero(owner == i) for i in range(self.n_players)]

    def edge_probs(self, sigma: np.ndarray) -> np.ndarray:
        ep = self.cprob.copy()
        mask = self.gact >= 0
        ep[mask] = sigma[self.gact[mask]]
        return ep

    def reaches(self, ep: np.ndarray) -> np.ndarray:
        r = np.ones((self.n_players + 1, len(ep)))
        for lev in self.levels:
            r[:, lev] = r[:, self.parent[lev]]
            r[self.owner[lev], lev] *= ep[lev]
        return r

    def values(self, ep: np.ndarray, player: int) -> np.ndarray:
        v = np.where(self.terminal, self.payoff[player], 0.0)
        for lev in reversed(self.levels):
            np.add.at(v, self.parent[lev], ep[lev] * v[lev])
        return v


def regret_matching(regret: np.ndarray, a: _Arrays) -> np.ndarray:
    pos = np.maximum(regret, 0.0)
    total = np.zeros(a.n_infosets)
    np.add.at(total, a.act_infoset, pos)
    size = np.diff(a.offset)[a.act_infoset]
    t = total[a.act_infoset]
    return np.where(t > 0, pos / np.where(t > 0, t, 1.0), 1.0 / size)


def solve_cfr(
    tree: FlatTree, iterations: int = 1000, target: float = 0.0, check_every: int = 100
) -> CFRResult:
    """Run CFR+ for ``iterations`` (stopping early once NashConv <= ``target``)."""
    a = _Arrays(tree)
    if a.n_infosets == 0:
        return CFRResult([], 0, 0.0, tuple(0.0 for _ in tree.players), ())
    regret = np.zeros(a.n_actions)
    sigma = regret_matching(regret, a)
    avg = np.zeros(a.n_actions)
    history: list[tuple[int, float]] = []
    done = 0
    for t in range(1, iterations + 1):
        for i in range(a.n_players):
            mine = a.act_player == i
            if not mine.any():
                continue
            ep = a.edge_probs(sigma)
            reach = a.reaches(ep)
            others = np.prod(np.delete(reach, i, axis=0), axis=0)
            v = a.values(ep, i)
            edges = a.player_edges[i]
            cfa = np.zeros(a.n_actions)
            np.add.at(cfa, a.gact[edges], others[a.parent[edges]] * v[edges])
            cfi = np.zeros(a.n_infosets)
            np.add.at(cfi, a.act_infoset[mine], (sigma * cfa)[mine])
            own = reach[i, a.first_node][a.act_infoset]
            avg[mine] += t * own[mine] * sigma[mine]
            regret[mine] = np.maximum(regret[mine] + cfa[mine] - cfi[a.act_infoset[mine]], 0)
            sigma = np.where(mine, regret_matching(regret, a), sigma)
        done = t
        if target > 0 and t % check_every == 0:
            nc = float(nash_conv(tree, _profile(avg, a))[0])  # type: ignore[arg-type]
            history.append((t, nc))
            if nc <= target:
                break
    profile = _profile(avg, a)
    total, gains = nash_conv(tree, profile)
    return CFRResult(
        profile,
        done,
        float(total),  # type: ignore[arg-type]
        tuple(float(g) for g in gains),  # type: ignore[arg-type]
        tuple(history),
    )


def _profile(avg: np.ndarray, a: _Arrays) -> list[list[float]]:
    out = []
    for k in range(a.n_infosets):
        seg = avg[a.offset[k] : a.offset[k + 1]]
        s = seg.sum()
        out.append([float(x) for x in (seg / s if s > 0 else np.full(len(seg), 1 / len(seg)))])
    return out
