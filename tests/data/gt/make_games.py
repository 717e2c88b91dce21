"""Write the game files of the solver tests (run from anywhere: ``python make_games.py``).

Each game is a textbook case or a small random one from a fixed seed; the tests compare
``crisislab gt solve`` with pygambit's own solvers on every file here.
"""

from __future__ import annotations

import random
from fractions import Fraction as F
from pathlib import Path

from crisislab.gt.build import table_game, tree_game

HERE = Path(__file__).parent


def tables() -> dict[str, object]:
    rng = random.Random(1962)
    r3 = [[[rng.randint(-5, 5) for _ in range(3)] for _ in range(3)] for _ in range(2)]
    r32 = [[[rng.randint(0, 9) for _ in range(2)] for _ in range(3)] for _ in range(2)]
    p3 = [
        [[[rng.randint(0, 6) for _ in range(2)] for _ in range(2)] for _ in range(2)]
        for _ in range(3)
    ]
    two = ["Row", "Column"]
    return {
        "chicken": table_game(
            "Chicken (ordinal)",
            two,
            [["swerve", "straight"]] * 2,
            [[[3, 2], [4, 1]], [[3, 4], [2, 1]]],
        ),
        "matching_pennies": table_game(
            "Matching pennies",
            two,
            [["heads", "tails"]] * 2,
            [[[1, -1], [-1, 1]], [[-1, 1], [1, -1]]],
        ),
        "prisoners_dilemma": table_game(
            "Prisoners' dilemma",
            two,
            [["cooperate", "defect"]] * 2,
            [[[3, 1], [4, 2]], [[3, 4], [1, 2]]],
        ),
        "battle_of_the_sexes": table_game(
            "Battle of the sexes",
            two,
            [["opera", "match"]] * 2,
            [[[3, 0], [0, 2]], [[2, 0], [0, 3]]],
        ),
        "rock_paper_scissors": table_game(
            "Rock, paper, scissors",
            two,
            [["rock", "paper", "scissors"]] * 2,
            [[[0, -1, 1], [1, 0, -1], [-1, 1, 0]], [[0, 1, -1], [-1, 0, 1], [1, -1, 0]]],
        ),
        "stag_hunt": table_game(
            "Stag hunt", two, [["stag", "hare"]] * 2, [[[4, 0], [3, 3]], [[4, 3], [0, 3]]]
        ),
        "random_3x3": table_game("Random 3x3 (seed 1962)", two, [["a", "b", "c"]] * 2, r3),
        "random_3x2": table_game("Random 3x2 (seed 1962)", two, [["a", "b", "c"], ["x", "y"]], r32),
        "three_player_random": table_game(
            "Three players, 2x2x2 (seed 1962)", ["One", "Two", "Three"], [["a", "b"]] * 3, p3
        ),
        "three_player_coordination": table_game(
            "Three-player coordination",
            ["One", "Two", "Three"],
            [["left", "right"]] * 3,
            [[[[2, 0], [0, 0]], [[0, 0], [0, 1]]]] * 3,
        ),
    }


def trees() -> dict[str, object]:
    us, su = "USA", "USSR"
    ent = (
        "p",
        "Entrant",
        "enter?",
        [
            ("out", ("t", "stay out", [0, 2])),
            (
                "in",
                (
                    "p",
                    "Incumbent",
                    "respond",
                    [
                        ("fight", ("t", "price war", [-1, -1])),
                        ("accommodate", ("t", "share", [1, 1])),
                    ],
                ),
            ),
        ],
    )

    def centipede(k: int, pot: int = 2) -> tuple:  # type: ignore[type-arg]
        if k == 4:
            return ("t", "end", [pot, pot - 1])
        who = "A" if k % 2 == 0 else "B"
        take = [pot + 1, pot - 1] if who == "A" else [pot - 1, pot + 1]
        return (
            "p",
            who,
            f"stage {k + 1}",
            [("take", ("t", f"take {k + 1}", take)), ("pass", centipede(k + 1, pot + 1))],
        )

    chance_pi = (
        "p",
        us,
        "quarantine?",
        [
            (
                "quarantine",
                (
                    "c",
                    [
                        (
                            "incident",
                            F(1, 5),
                            (
                                "p",
                                su,
                                "after incident",
                                [
                                    ("escalate", ("t", "war", [-10, -10])),
                                    ("stand down", ("t", "backs down", [2, -2])),
                                ],
                            ),
                        ),
                        (
                            "calm",
                            F(4, 5),
                            (
                                "p",
                                su,
                                "calm",
                                [
                                    ("run", ("t", "runs", [-1, 1])),
                                    ("turn back", ("t", "turns back", [2, -1])),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
            (
                "strike",
                (
                    "c",
                    [
                        ("success", F(9, 10), ("t", "strike works", [1, -3])),
                        ("failure", F(1, 10), ("t", "missiles fired", [-20, -12])),
                    ],
                ),
            ),
        ],
    )
    kuhn_cards = ["J", "Q", "K"]
    deals = []
    for a in range(3):
        for b in range(3):
            if a == b:
                continue
            w = 1 if a > b else -1
            deals.append(
                (
                    f"{kuhn_cards[a]}{kuhn_cards[b]}",
                    F(1, 6),
                    (
                        "p",
                        "P1",
                        kuhn_cards[a],
                        [
                            (
                                "check",
                                (
                                    "p",
                                    "P2",
                                    kuhn_cards[b] + " after check",
                                    [
                                        ("check", ("t", "showdown", [w, -w])),
                                        (
                                            "bet",
                                            (
                                                "p",
                                                "P1",
                                                kuhn_cards[a] + " facing bet",
                                                [
                                                    ("fold", ("t", "P1 folds", [-1, 1])),
                                                    ("call", ("t", "showdown 2", [2 * w, -2 * w])),
                                                ],
                                            ),
                                        ),
                                    ],
                                ),
                            ),
                            (
                                "bet",
                                (
                                    "p",
                                    "P2",
                                    kuhn_cards[b] + " facing bet",
                                    [
                                        ("fold", ("t", "P2 folds", [1, -1])),
                                        ("call", ("t", "showdown 2", [2 * w, -2 * w])),
                                    ],
                                ),
                            ),
                        ],
                    ),
                )
            )
    one_card = (
        "c",
        [
            (
                card,
                F(1, 2),
                (
                    "p",
                    "Fred",
                    card,
                    [
                        (
                            "raise",
                            (
                                "p",
                                "Alice",
                                "raised",
                                [
                                    ("meet", ("t", f"{card} met", [2 * s, -2 * s])),
                                    ("pass", ("t", "Alice passes", [1, -1])),
                                ],
                            ),
                        ),
                        ("fold", ("t", f"{card} folds", [1 * s, -1 * s])),
                    ],
                ),
            )
            for card, s in (("red", 1), ("black", -1))
        ],
    )
    # Selten's horse: three players, player 3 does not know who moved
    horse = (
        "p",
        "One",
        "1",
        [
            (
                "across",
                (
                    "p",
                    "Two",
                    "2",
                    [
                        ("across", ("t", "all across", [1, 1, 1])),
                        (
                            "down",
                            (
                                "p",
                                "Three",
                                "3",
                                [
                                    ("left", ("t", "2 down, L", [4, 4, 0])),
                                    ("right", ("t", "2 down, R", [1, 1, 1])),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
            (
                "down",
                (
                    "p",
                    "Three",
                    "3",
                    [
                        ("left", ("t", "1 down, L", [0, 0, 1])),
                        ("right", ("t", "1 down, R", [3, 2, 2])),
                    ],
                ),
            ),
        ],
    )
    mp_tree = (
        "p",
        "One",
        "choose",
        [
            (
                h,
                (
                    "p",
                    "Two",
                    "guess",
                    [
                        (g, ("t", f"{h}-{g}", [1, -1] if h == g else [-1, 1]))
                        for g in ("heads", "tails")
                    ],
                ),
            )
            for h in ("heads", "tails")
        ],
    )

    def beer_quiche(kind: str, p: F) -> tuple:  # type: ignore[type-arg]
        likes = "beer" if kind == "strong" else "quiche"
        return (
            kind,
            p,
            (
                "p",
                "Sender",
                kind,
                [
                    (
                        food,
                        (
                            "p",
                            "Receiver",
                            f"saw {food}",
                            [
                                (
                                    "duel",
                                    (
                                        "t",
                                        f"{kind} {food} duel",
                                        [int(food == likes), 1 if kind == "weak" else 0],
                                    ),
                                ),
                                (
                                    "walk",
                                    (
                                        "t",
                                        f"{kind} {food} walk",
                                        [2 + int(food == likes), 1 if kind == "strong" else 0],
                                    ),
                                ),
                            ],
                        ),
                    )
                    for food in ("beer", "quiche")
                ],
            ),
        )

    signaling = ("c", [beer_quiche("strong", F(9, 10)), beer_quiche("weak", F(1, 10))])
    three_chance = (
        "c",
        [
            (
                "storm",
                F(1, 3),
                (
                    "p",
                    "One",
                    "storm",
                    [
                        ("shelter", ("t", "sheltered", [1, 0, 2])),
                        (
                            "sail",
                            (
                                "p",
                                "Two",
                                "sailing in storm",
                                [
                                    ("help", ("t", "helped", [2, 2, 0])),
                                    (
                                        "ignore",
                                        (
                                            "p",
                                            "Three",
                                            "alone",
                                            [
                                                ("rescue", ("t", "rescued", [1, 1, 1])),
                                                ("wait", ("t", "lost", [-3, 0, 0])),
                                            ],
                                        ),
                                    ),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
            (
                "fair",
                F(2, 3),
                (
                    "p",
                    "Two",
                    "fair",
                    [
                        ("trade", ("t", "trade", [1, 2, 0])),
                        (
                            "raid",
                            (
                                "p",
                                "Three",
                                "raid",
                                [
                                    ("defend", ("t", "defended", [0, -1, 2])),
                                    ("flee", ("t", "fled", [1, 3, -1])),
                                ],
                            ),
                        ),
                    ],
                ),
            ),
        ],
    )
    ultimatum = (
        "p",
        "Proposer",
        "offer",
        [
            (
                f"give {k}",
                (
                    "p",
                    "Responder",
                    f"offered {k}",
                    [
                        ("accept", ("t", f"split {4 - k}/{k}", [4 - k, k])),
                        ("reject", ("t", "nothing", [0, 0])),
                    ],
                ),
            )
            for k in (1, 2, 3)
        ],
    )
    blind = (
        "c",
        [
            (
                t,
                F(1, 2),
                (
                    "p",
                    us,
                    "ships?",
                    [
                        (
                            s,
                            (
                                "p",
                                su,
                                f"{t}",
                                [
                                    (r, ("t", f"{t} {s} {r}", pay))
                                    for r, pay in (
                                        ("hold", [1, -1] if t == "hawk" else [0, 1]),
                                        ("yield", [2, 0] if s == "blockade" else [1, 1]),
                                    )
                                ],
                            ),
                        )
                        for s in ("blockade", "wait")
                    ],
                ),
            )
            for t in ("hawk", "dove")
        ],
    )
    return {
        "entry_deterrence": tree_game("Entry deterrence", ["Entrant", "Incumbent"], ent),
        "centipede": tree_game("Centipede, four stages", ["A", "B"], centipede(0)),
        "quarantine_with_chance": tree_game(
            "Quarantine with chance (perfect information)", [us, su], chance_pi
        ),
        "kuhn_poker": tree_game("Kuhn poker", ["P1", "P2"], ("c", deals)),
        "one_card_poker": tree_game("One-card poker (Myerson)", ["Fred", "Alice"], one_card),
        "selten_horse": tree_game("Selten's horse", ["One", "Two", "Three"], horse),
        "matching_pennies_tree": tree_game("Matching pennies as a tree", ["One", "Two"], mp_tree),
        "beer_quiche": tree_game("Beer-quiche signaling", ["Sender", "Receiver"], signaling),
        "three_player_chance": tree_game(
            "Three players with chance (perfect information)", ["One", "Two", "Three"], three_chance
        ),
        "ultimatum": tree_game("Ultimatum, four units", ["Proposer", "Responder"], ultimatum),
        "hidden_type": tree_game("Blockade against an unknown type", [us, su], blind),
    }


def models() -> dict[str, object]:
    from crisislab.gt.models import brinkmanship, zagare

    return {
        "brinkmanship": brinkmanship.game(brinkmanship.Params(), q=F(2, 5)),
        "zagare": zagare.game(zagare.Params()),
    }


def main() -> None:
    for name, g in tables().items():
        g.to_nfg(str(HERE / f"{name}.nfg"))  # type: ignore[attr-defined]
    for name, g in {**trees(), **models()}.items():
        g.to_efg(str(HERE / f"{name}.efg"))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
