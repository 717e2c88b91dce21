"""Zagare's incomplete-information explanation of the crisis: the Asymmetric Escalation
Game with two-sided incomplete information.

Sources:

- Zagare, F. C., "A Game-Theoretic History of the Cuban Missile Crisis", *Economies* 2(1)
  (2014): 20-44, doi:10.3390/economies2010020 (open access). Its closing section sketches
  a "general explanation" of the crisis inside one game-theoretic model with incomplete
  information, built on the game below.
- Zagare, F. C. and Kilgour, D. M., *Perfect Deterrence* (Cambridge University Press,
  2000), ch. 6 and the appendix "Asymmetric Escalation Game: general version": the game,
  its twenty parameters and their orderings are taken from there (checked against the
  publisher's summary of that appendix); Kilgour and Zagare, "Explaining Limited
  Conflicts", *Conflict Management and Peace Science* 24(1) (2007): 65-82; Zagare and
  Kilgour, "Assessing Competing Defense Postures", *World Politics* 47(3) (1995): 373-417.

The game. The Soviet Union (Challenger) keeps the status quo (SQ) or initiates (D: the
missiles). The United States (Defender) concedes (DC), responds in kind (D: the
quarantine) or escalates (E: air strike or invasion). After a response in kind the
Challenger stops there (DD, a limited conflict) or escalates, and the Defender then
backs down (ED) or escalates too (EE). After a Defender's escalation the Challenger backs
down (DE) or escalates (EE).

Types. The Challenger is Hard (it prefers EE to DE) with probability ``p_ch``. The
Defender is tactically Hard (prefers DD to DC) or Soft, and strategically Hard (prefers
EE to ED) or Soft: types HH, HS, SH, SS with probabilities ``p_hh + p_hs + p_sh + p_ss =
1``. Each side knows its own type only. Preferences (Perfect Deterrence's orderings):
``c_ee_soft < c_de < c_ee_hard < c_dd < c_ed < c_sq < c_dc`` and ``d_ee_soft < d_ed <
d_ee_hard < d_dd_soft < d_dc < d_dd_hard < d_de < d_sq``.

Equilibria. Zagare and Kilgour's own tables of equilibria (and their names) could not be
consulted for this build, so the perfect Bayesian equilibria here are derived in this
module, by backward induction with Bayes' rule, and named by what the players do:

- last moves: a strategically Hard Defender meets an escalation with escalation, a Soft
  one backs down; a Hard Challenger meets an escalation with escalation, a Soft one backs
  down (dominant choices);
- after a response in kind, a Challenger of type t escalates iff its belief ``s`` that
  the Defender is strategically Hard is below ``s*_t = (c_ed - c_dd) / (c_ed - c_ee_t)``
  (``s*_soft < s*_hard``);
- facing a challenge with belief ``q`` that the Challenger is Hard, a Defender of
  strategic type x prefers escalating to conceding iff ``q < qE_x = (d_de - d_dc) /
  (d_de - d_ee_x)``; tactically Soft Defenders never respond in kind; a tactically Hard
  type responds in kind iff the chance ``eps`` that the Challenger escalates afterwards
  is at most ``(d_dd_hard - o) / (d_dd_hard - w)``, with o its best other option and w
  its payoff after an escalation (d_ee_hard if strategically Hard, else d_ed);
- the response stage then has these solutions: nobody responds in kind; only HH does;
  HH and HS both do (``s = p_hh / (p_hh + p_hs)``); or HH does and HS mixes so that a
  Challenger is indifferent (``s = s*_hard`` or ``s*_soft``) while that Challenger
  escalates just often enough to make HS indifferent;
- at the start, each Challenger type compares the status quo with the value of
  initiating under that response; families: deterrence (nobody initiates), both types
  initiate (pooling), only the Hard type initiates (separating), or the Soft type
  initiates with a probability that holds the Defender's belief at ``qE_x``, where the
  US types of strategic type x that do not respond in kind escalate just often enough to
  leave a Soft Challenger indifferent (semi-separating).

Off the equilibrium path beliefs are the priors (passive beliefs): after an unexpected
challenge ``q = p_ch``; after an unexpected response in kind ``s = p_hh + p_sh``. Ties
(a player exactly indifferent) are resolved toward the less escalatory action. Other
mixtures (a Challenger type mixing at another belief, HH mixing) are not derived: on
random parameters the derived families cover about 95% of cases, and ``analyse`` says
when none of them exists.

Defaults are assumptions, chosen on a 0-100 scale so that this reading of the crisis
(the Soviets initiate, the United States answers with the quarantine, the Soviets do not
escalate further) is an equilibrium path: a Hard Soviet leadership is likely (``p_ch =
2/3``, so an American air strike risks all-out war); half the American types are
tactically Hard, which makes initiating worth the risk for Moscow; and among those, most
are strategically Hard (``p_hh / (p_hh + p_hs) = 3/5 >= s*_hard = 2/5``), which stops a
Soviet escalation once the quarantine is in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from fractions import Fraction as F
from typing import Any

import pygambit as gbt

from crisislab.gt.build import rational, tree_game

SOURCE = (
    "the game, its types and its preference orderings: Zagare and Kilgour, Perfect "
    "Deterrence (2000), ch. 6 and appendix (Asymmetric Escalation Game, general "
    "version), and Kilgour and Zagare, CMPS 24(1) (2007) 65-82; the proposal to "
    "explain the crisis with it: Zagare, 'A Game-Theoretic History of the Cuban "
    "Missile Crisis', Economies 2(1) (2014) 20-44, closing section; the equilibrium "
    "families, their names and the default numbers: derived and chosen here, not "
    "taken from those sources"
)
CONCEPT = (
    "perfect Bayesian equilibrium, derived by backward induction with Bayes' rule "
    "on the path, under PASSIVE off-path beliefs: after a move the equilibrium "
    "does not expect, beliefs stay at the priors. The families found are the "
    "equilibria under that assumption only; with other off-path beliefs (e.g. "
    "that an unexpected challenger is Hard) other families, deterrence among "
    "them, can be equilibria too"
)
CH, DEF = "USSR", "USA"
CTYPES = ("hard", "soft")
DTYPES = ("HH", "HS", "SH", "SS")  # tactical, strategic
OUTCOMES = ("SQ", "DC", "DD", "ED", "DE", "EE")


class ParamsError(ValueError):
    """Parameters that break the model's assumptions; the message names the inequality."""


@dataclass(frozen=True)
class Params:
    p_ch: F = F(2, 3)  # probability the Challenger (USSR) is Hard
    p_hh: F = F(3, 10)  # Defender (USA) tactically and strategically Hard
    p_hs: F = F(1, 5)  # tactically Hard, strategically Soft
    p_sh: F = F(1, 20)  # tactically Soft, strategically Hard
    p_ss: F = F(9, 20)  # both Soft
    c_ee_soft: F = F(0)
    c_de: F = F(20)
    c_ee_hard: F = F(25)
    c_dd: F = F(40)
    c_ed: F = F(50)
    c_sq: F = F(60)
    c_dc: F = F(100)
    d_ee_soft: F = F(0)
    d_ed: F = F(20)
    d_ee_hard: F = F(30)
    d_dd_soft: F = F(40)
    d_dc: F = F(50)
    d_dd_hard: F = F(60)
    d_de: F = F(80)
    d_sq: F = F(100)

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, F(getattr(self, f.name)))
        if not 0 < self.p_ch < 1:
            raise ParamsError(f"need 0 < p_ch < 1, got p_ch = {self.p_ch}")
        for name in ("p_hh", "p_hs", "p_sh", "p_ss"):
            if getattr(self, name) <= 0:
                raise ParamsError(f"need {name} > 0, got {getattr(self, name)}")
        total = self.p_hh + self.p_hs + self.p_sh + self.p_ss
        if total != 1:
            raise ParamsError(f"need p_hh + p_hs + p_sh + p_ss = 1, got {total}: set all four")
        for chain in (
            ("c_ee_soft", "c_de", "c_ee_hard", "c_dd", "c_ed", "c_sq", "c_dc"),
            ("d_ee_soft", "d_ed", "d_ee_hard", "d_dd_soft", "d_dc", "d_dd_hard", "d_de", "d_sq"),
        ):
            for lo, hi in zip(chain, chain[1:], strict=False):
                if not getattr(self, lo) < getattr(self, hi):
                    raise ParamsError(
                        f"need {lo} < {hi}, got {getattr(self, lo)} >= "
                        f"{getattr(self, hi)} (the ordering is "
                        f"{' < '.join(chain)})"
                    )

    def prob(self, dtype: str) -> F:
        return {"HH": self.p_hh, "HS": self.p_hs, "SH": self.p_sh, "SS": self.p_ss}[dtype]

    def c(self, outcome: str, ctype: str) -> F:
        if outcome == "EE":
            return self.c_ee_hard if ctype == "hard" else self.c_ee_soft
        return {
            "SQ": self.c_sq,
            "DC": self.c_dc,
            "DD": self.c_dd,
            "ED": self.c_ed,
            "DE": self.c_de,
        }[outcome]

    def d(self, outcome: str, dtype: str) -> F:
        if outcome == "EE":
            return self.d_ee_hard if dtype[1] == "H" else self.d_ee_soft
        if outcome == "DD":
            return self.d_dd_hard if dtype[0] == "H" else self.d_dd_soft
        return {"SQ": self.d_sq, "DC": self.d_dc, "ED": self.d_ed, "DE": self.d_de}[outcome]


@dataclass(frozen=True)
class Condition:
    text: str  # what must hold, in words
    lhs: F
    op: str  # "<", "<=", ">=", ">" or "=="
    rhs: F
    holds: bool


def _cond(text: str, lhs: F, op: str, rhs: F) -> Condition:
    ok = {"<": lhs < rhs, "<=": lhs <= rhs, ">=": lhs >= rhs, ">": lhs > rhs, "==": lhs == rhs}[op]
    return Condition(text, lhs, op, rhs, ok)


@dataclass(frozen=True)
class Response:
    """A solution of the game after a challenge, given the Defender's belief q."""

    kind: str
    q: F
    s: F  # Challenger's belief, after a response in kind, that the Defender is strat. Hard
    defender: dict[str, dict[str, F]]  # type -> {"C": p, "D": p, "E": p}
    escalate: dict[str, F]  # Challenger type -> P(escalate after a response in kind)
    conditions: tuple[Condition, ...]

    @property
    def valid(self) -> bool:
        return all(c.holds for c in self.conditions)


@dataclass(frozen=True)
class Family:
    key: str  # pattern at the start ("deter", "pool", "separate") : the response's kind
    name: str
    initiate: dict[str, F]  # Challenger type -> P(initiate)
    response: Response
    conditions: tuple[Condition, ...]
    values: dict[str, F]  # Challenger type -> value of initiating
    outcomes: dict[str, F]  # outcome -> probability, before types are drawn
    payoffs: dict[str, F]  # expected payoffs, USSR and USA

    @property
    def exists(self) -> bool:
        return self.response.valid and all(c.holds for c in self.conditions)


@dataclass(frozen=True)
class ZagareResult:
    params: Params
    thresholds: dict[str, F]
    families: tuple[Family, ...] = field(default_factory=tuple)
    source: str = SOURCE
    concept: str = CONCEPT

    @property
    def equilibria(self) -> tuple[Family, ...]:
        return tuple(f for f in self.families if f.exists)


def thresholds(pr: Params) -> dict[str, F]:
    return {
        "s*_hard": (pr.c_ed - pr.c_dd) / (pr.c_ed - pr.c_ee_hard),
        "s*_soft": (pr.c_ed - pr.c_dd) / (pr.c_ed - pr.c_ee_soft),
        "qE_strat_hard": (pr.d_de - pr.d_dc) / (pr.d_de - pr.d_ee_hard),
        "qE_strat_soft": (pr.d_de - pr.d_dc) / (pr.d_de - pr.d_ee_soft),
        "sigma_tac_hard": pr.p_hh / (pr.p_hh + pr.p_hs),
        "passive_s": pr.p_hh + pr.p_sh,
    }


def _escalate(pr: Params, s: F) -> dict[str, F]:
    th = thresholds(pr)
    return {t: F(1) if s < th[f"s*_{t}"] else F(0) for t in CTYPES}


def _other_option(pr: Params, dtype: str, q: F) -> tuple[str, F]:
    """A Defender type's best reply other than responding in kind (ties: concede)."""
    e = q * pr.d("EE", dtype) + (1 - q) * pr.d_de
    return ("E", e) if e > pr.d_dc else ("C", pr.d_dc)


def _eps_hat(pr: Params, dtype: str, q: F) -> F:
    """The largest chance of a Challenger escalation at which responding in kind is still
    worth it to a tactically Hard type (negative: never)."""
    w = pr.d_ee_hard if dtype[1] == "H" else pr.d_ed
    return (pr.d_dd_hard - _other_option(pr, dtype, q)[1]) / (pr.d_dd_hard - w)


def responses(pr: Params, q: F) -> list[Response]:
    """Every derived solution of the game after a challenge, given belief q."""
    th = thresholds(pr)
    soft_types = {t: _other_option(pr, t, q)[0] for t in ("SH", "SS")}
    hat = {t: _eps_hat(pr, t, q) for t in ("HH", "HS")}

    def defender(hh: dict[str, F], hs: dict[str, F]) -> dict[str, dict[str, F]]:
        out = {"HH": hh, "HS": hs}
        for t, a in soft_types.items():
            out[t] = {a: F(1)}
        return out

    def pure(t: str, a: str) -> dict[str, F]:
        return {a: F(1)}

    def eps(e: dict[str, F]) -> F:
        return q * e["hard"] + (1 - q) * e["soft"]

    out = []
    # nobody responds in kind: the Challenger's belief is passive
    s0 = th["passive_s"]
    e0 = _escalate(pr, s0)
    out.append(
        Response(
            "no response in kind",
            q,
            s0,
            defender(
                pure("HH", _other_option(pr, "HH", q)[0]), pure("HS", _other_option(pr, "HS", q)[0])
            ),
            e0,
            (
                _cond("HH does not respond in kind: eps >= eps^_HH", eps(e0), ">=", hat["HH"]),
                _cond("HS does not respond in kind: eps >= eps^_HS", eps(e0), ">=", hat["HS"]),
            ),
        )
    )
    # only HH responds in kind: s = 1, nobody escalates
    out.append(
        Response(
            "HH responds in kind",
            q,
            F(1),
            defender(pure("HH", "D"), pure("HS", _other_option(pr, "HS", q)[0])),
            _escalate(pr, F(1)),
            (
                _cond("HH responds in kind: eps^_HH >= 0", hat["HH"], ">=", F(0)),
                _cond(
                    "HS does not, even if no Challenger escalates: eps^_HS <= 0",
                    hat["HS"],
                    "<=",
                    F(0),
                ),
            ),
        )
    )
    # HH and HS respond in kind
    st = th["sigma_tac_hard"]
    es = _escalate(pr, st)
    out.append(
        Response(
            "HH and HS respond in kind",
            q,
            st,
            defender(pure("HH", "D"), pure("HS", "D")),
            es,
            (
                _cond("HH responds in kind: eps <= eps^_HH", eps(es), "<=", hat["HH"]),
                _cond("HS responds in kind: eps <= eps^_HS", eps(es), "<=", hat["HS"]),
            ),
        )
    )
    # HH responds in kind, HS mixes: s pinned at a Challenger threshold
    for t in CTYPES:
        s = th[f"s*_{t}"]
        z = pr.p_hh * (1 - s) / (pr.p_hs * s) if s > 0 else F(2)
        target = hat["HS"]
        if t == "hard":  # soft does not escalate, hard mixes
            e = {"hard": target / q if q else F(2), "soft": F(0)}
        else:  # hard escalates, soft mixes
            e = {"hard": F(1), "soft": (target - q) / (1 - q) if q < 1 else F(2)}
        conds = (
            _cond(f"s*_{t} > p_hh / (p_hh + p_hs), so HS can mix", s, ">", st),
            _cond(f"{t} Challenger's escalation probability is at least 0", e[t], ">=", F(0)),
            _cond(f"{t} Challenger's escalation probability is at most 1", e[t], "<=", F(1)),
            _cond("HH responds in kind: eps^_HS <= eps^_HH", hat["HS"], "<=", hat["HH"]),
        )
        hs = {"D": min(max(z, F(0)), F(1)), _other_option(pr, "HS", q)[0]: F(0)}
        hs[_other_option(pr, "HS", q)[0]] = 1 - hs["D"]
        out.append(
            Response(
                f"HH responds in kind, HS mixes (s = s*_{t})",
                q,
                s,
                defender(pure("HH", "D"), hs),
                {k: min(max(v, F(0)), F(1)) for k, v in e.items()},
                conds,
            )
        )
    return out


def _value(pr: Params, r: Response, ctype: str) -> F:
    """A Challenger type's expected payoff from initiating, under response r."""
    v = F(0)
    for dt in DTYPES:
        acts = r.defender[dt]
        for a, pa in acts.items():
            if not pa:
                continue
            if a == "C":
                x = pr.c_dc
            elif a == "E":
                x = pr.c("EE", ctype) if ctype == "hard" else pr.c_de
            else:
                e = r.escalate[ctype]
                x = (1 - e) * pr.c_dd + e * (pr.c("EE", ctype) if dt[1] == "H" else pr.c_ed)
            v += pr.prob(dt) * pa * x
    return v


def _distribution(
    pr: Params, initiate: dict[str, F], r: Response
) -> tuple[dict[str, F], dict[str, F]]:
    """Outcome probabilities and expected payoffs (USSR, USA) of a family."""
    dist = dict.fromkeys(OUTCOMES, F(0))
    pay = {CH: F(0), DEF: F(0)}
    for ct, pc in (("hard", pr.p_ch), ("soft", 1 - pr.p_ch)):
        for dt in DTYPES:
            w = pc * pr.prob(dt)
            branch = [("SQ", 1 - initiate[ct])]
            for a, pa in r.defender[dt].items():
                p = initiate[ct] * pa
                if a == "C":
                    branch.append(("DC", p))
                elif a == "E":
                    branch.append(("EE" if ct == "hard" else "DE", p))
                else:
                    e = r.escalate[ct]
                    branch += [("DD", p * (1 - e)), ("EE" if dt[1] == "H" else "ED", p * e)]
            for o, p in branch:
                dist[o] += w * p
                pay[CH] += w * p * pr.c(o, ct)
                pay[DEF] += w * p * pr.d(o, dt)
    return dist, pay


def _name(initiate: dict[str, F], r: Response) -> str:
    if not any(initiate.values()):
        return f"deterrence (a challenge would meet: {r.kind})"
    who = "both types initiate" if all(initiate.values()) else "only a Hard USSR initiates"
    acts = {a for dt in DTYPES for a, p in r.defender[dt].items() if p}
    if acts == {"C"}:
        return f"{who}; every US type concedes"
    parts = []
    if "D" in acts:
        esc = [t for t in CTYPES if r.escalate[t] and initiate[t]]
        parts.append(
            "tactically Hard US types respond in kind"
            + ("" if not esc else f", then a {' or '.join(esc)} USSR may escalate")
        )
    if "E" in acts:
        parts.append("some US types escalate at once")
    if "C" in acts:
        parts.append("the others concede")
    return f"{who}; " + "; ".join(parts)


def analyse(pr: Params = Params()) -> ZagareResult:
    th = thresholds(pr)
    fams = []
    patterns = (
        ("deter", {"hard": F(0), "soft": F(0)}, pr.p_ch),
        ("pool", {"hard": F(1), "soft": F(1)}, pr.p_ch),
        ("separate", {"hard": F(1), "soft": F(0)}, F(1)),
    )
    for key, initiate, q in patterns:
        for r in responses(pr, q):
            values = {t: _value(pr, r, t) for t in CTYPES}
            conds = tuple(
                _cond(
                    f"{t} USSR {'initiates' if initiate[t] else 'keeps the status quo'}: "
                    f"value of initiating {'>=' if initiate[t] else '<='} c_sq",
                    values[t],
                    ">=" if initiate[t] else "<=",
                    pr.c_sq,
                )
                for t in CTYPES
            )
            dist, pay = _distribution(pr, initiate, r)
            fams.append(
                Family(
                    f"{key}: {r.kind}", _name(initiate, r), initiate, r, conds, values, dist, pay
                )
            )
    fams += _semi_separating(pr)
    return ZagareResult(pr, th, tuple(fams))


def _semi_separating(pr: Params) -> list[Family]:
    """A Hard USSR initiates, a Soft one initiates with probability m, which holds the
    Defender's belief at a threshold ``qE_x`` where the US types of strategic type x that
    do not respond in kind are indifferent between conceding and escalating; they escalate
    with the probability mu that makes a Soft USSR indifferent about initiating."""
    th = thresholds(pr)
    out = []
    for x in ("hard", "soft"):
        q = th[f"qE_strat_{x}"]
        if not pr.p_ch < q < 1:
            continue
        m = pr.p_ch * (1 - q) / ((1 - pr.p_ch) * q)
        initiate = {"hard": F(1), "soft": m}
        for r in responses(pr, q):
            mixers = [t for t in DTYPES if t[1] == x[0].upper() and r.defender[t] == {"C": 1}]
            if not mixers:
                continue
            base = _value(pr, r, "soft")
            gain = sum((pr.prob(t) * (pr.c_dc - pr.c_de) for t in mixers), F(0))
            mu = (base - pr.c_sq) / gain
            clipped = min(max(mu, F(0)), F(1))
            defender = {
                t: ({"C": 1 - clipped, "E": clipped} if t in mixers else a)
                for t, a in r.defender.items()
            }
            rm = Response(r.kind, q, r.s, defender, r.escalate, r.conditions)
            values = {t: _value(pr, rm, t) for t in CTYPES}
            conds = (
                _cond(f"belief held at qE_strat_{x} > p_ch", q, ">", pr.p_ch),
                _cond(
                    "escalation probability mu that leaves a Soft USSR indifferent > 0",
                    mu,
                    ">",
                    F(0),
                ),
                _cond("... and < 1", mu, "<", F(1)),
                _cond(
                    "hard USSR initiates: value of initiating >= c_sq",
                    values["hard"],
                    ">=",
                    pr.c_sq,
                ),
            )
            dist, pay = _distribution(pr, initiate, rm)
            name = (
                f"a Hard USSR initiates, a Soft one with probability {m}; US types "
                f"{'/'.join(mixers)} escalate with probability {clipped}, "
                f"{r.kind.lower()}"
            )
            out.append(
                Family(
                    f"semi-separating at qE_strat_{x}: {r.kind}",
                    name,
                    initiate,
                    rm,
                    conds,
                    values,
                    dist,
                    pay,
                )
            )
    return out


def _info(ctype_or_dtype: str, stage: str) -> str:
    return f"{ctype_or_dtype} {stage}"


def game(pr: Params = Params()) -> gbt.Game:
    """The game for pygambit: chance draws both types; each side knows only its own
    (information sets join the nodes that differ in the other side's type)."""

    def leaf(o: str, ct: str, dt: str) -> tuple:  # type: ignore[type-arg]
        return ("t", f"{o} ({ct} USSR, US {dt})", [pr.c(o, ct), pr.d(o, dt)])

    def play(ct: str, dt: str) -> tuple:  # type: ignore[type-arg]
        after_d = (
            "p",
            CH,
            _info(ct, "USSR, after a response in kind"),
            [
                ("D", leaf("DD", ct, dt)),
                (
                    "E",
                    (
                        "p",
                        DEF,
                        _info(dt, "US, after a Soviet escalation"),
                        [("D", leaf("ED", ct, dt)), ("E", leaf("EE", ct, dt))],
                    ),
                ),
            ],
        )
        after_e = (
            "p",
            CH,
            _info(ct, "USSR, after a US escalation"),
            [("D", leaf("DE", ct, dt)), ("E", leaf("EE", ct, dt))],
        )
        return (
            "p",
            CH,
            _info(ct, "USSR"),
            [
                ("C", leaf("SQ", ct, dt)),
                (
                    "D",
                    (
                        "p",
                        DEF,
                        _info(dt, "US, challenged"),
                        [("C", leaf("DC", ct, dt)), ("D", after_d), ("E", after_e)],
                    ),
                ),
            ],
        )

    root = (
        "c",
        [
            (f"{ct} USSR", pc, ("c", [(f"US {dt}", pr.prob(dt), play(ct, dt)) for dt in DTYPES]))
            for ct, pc in (("hard", pr.p_ch), ("soft", 1 - pr.p_ch))
        ],
    )
    return tree_game(
        "Asymmetric Escalation Game with incomplete information (Zagare and Kilgour)",
        [CH, DEF],
        root,
    )


def profile_of(g: gbt.Game, fam: Family) -> gbt.MixedBehaviorProfile:
    """A family's behaviour as an exact pygambit profile of :func:`game`."""
    r = fam.response
    prof = g.mixed_behavior_profile(rational=True)
    for info in g.infosets:
        if info.is_chance:
            continue
        who, _, stage = info.label.partition(" ")
        probs: dict[str, F]
        if stage == "USSR":
            probs = {"D": fam.initiate[who], "C": 1 - fam.initiate[who]}
        elif stage == "US, challenged":
            probs = {a: r.defender[who].get(a, F(0)) for a in "CDE"}
        elif stage == "USSR, after a response in kind":
            probs = {"E": r.escalate[who], "D": 1 - r.escalate[who]}
        elif stage == "US, after a Soviet escalation":
            probs = {"E": F(int(who[1] == "H")), "D": F(int(who[1] != "H"))}
        else:  # USSR, after a US escalation
            probs = {"E": F(int(who == "hard")), "D": F(int(who != "hard"))}
        for a in info.actions:
            prof[a] = rational(probs.get(a.label, F(0)))
    return prof


def describe(fam: Family) -> dict[str, Any]:
    """A family as plain data (for JSON)."""
    r = fam.response
    return {
        "name": fam.name,
        "exists": fam.exists,
        "initiate": fam.initiate,
        "belief_q": r.q,
        "belief_s": r.s,
        "response": r.kind,
        "defender": r.defender,
        "escalate_after_response": r.escalate,
        "values": fam.values,
        "outcomes": {k: v for k, v in fam.outcomes.items() if v},
        "payoffs": fam.payoffs,
        "conditions": [
            {"text": c.text, "lhs": c.lhs, "op": c.op, "rhs": c.rhs, "holds": c.holds}
            for c in (*r.conditions, *fam.conditions)
        ],
    }
