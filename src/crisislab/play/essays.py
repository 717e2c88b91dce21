"""The essay questions of a scenario's teaching notes, with the evidence a game gives.

The questions belong to the seed notes (card 9 of 9 for ``cuba-1962``); they are
paraphrased here, with a short quotation. Evidence comes from two places: this game's
final state and path (read from the engine's state once the game is over), and passages
of the sources, each named by a locator and a short anchor phrase. The prose is ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crisislab.play.session import Session

if TYPE_CHECKING:
    from crisislab.play.debrief import Debrief


@dataclass(frozen=True)
class SourcePoint:
    text: str
    source: str
    locator: str
    anchor: str


@dataclass(frozen=True)
class EssayView:
    question: str
    quote: str
    locator: str
    game: tuple[str, ...]
    sources: tuple[SourcePoint, ...]


Reader = Callable[[str], float | None]


def _reader(session: Session) -> Reader:
    sc = session.scenario

    def read(name: str) -> float | None:
        try:
            return float(session.state.values[sc.variable(name).index, 0])
        except KeyError:
            return None

    return read


def _containment(read: Reader, d: Debrief, hist: Reader) -> list[str]:
    out = [f"Your crisis ended in {d.outcome_label.lower()} ({d.end_label}); the record "
           f"ends in {d.history_outcome_label.lower()} ({d.history_end_label})."]
    left = read("missiles_in_cuba")
    if left is not None:
        out.append(f"Missiles still on the island at the end: {left:g} (history: "
                   f"{hist('missiles_in_cuba') or 0:g}).")
    withdrawn = read("missiles_withdrawn")
    if withdrawn is not None:
        out.append(f"Missiles shipped out under an agreement: {withdrawn:g}.")
    pledge = [n for n in ("noninvasion_assurance", "noninvasion_pledge") if read(n)]
    out.append("Washington gave an assurance against invading Cuba, so Castro's regime "
               "stays, as it did in 1962." if pledge else
               "No assurance against invasion was given: Cuba's future stays open.")
    if d.outcome in ("invasion", "conventional_war", "tactical_nuclear",
                     "strategic_exchange"):
        out.append("The crisis ended in war or invasion: whatever containment meant, it "
                   "was not achieved by the means of 1962.")
    return out


def _gamble(read: Reader, d: Debrief, hist: Reader) -> list[str]:
    out: list[str] = []
    gains = []
    if read("noninvasion_assurance") or read("noninvasion_pledge"):
        gains.append("an American assurance against invasion")
    deal = read("jupiter_deal")
    if deal:
        gains.append("the removal of the Jupiters from Turkey")
    left = read("missiles_in_cuba")
    if d.outcome == "fait_accompli" or (left and not read("withdrawal_agreed")):
        gains.append("missiles that stayed in Cuba")
    out.append("Soviet gains in your crisis: " + (", ".join(gains) if gains else "none")
               + ".")
    peak = max((e for _, e in d.curve_game), default=0.0)
    peak_h = max((e for _, e in d.curve_history), default=0.0)
    label = d.escalation_labels.get(int(peak), f"{peak:g}")
    label_h = d.escalation_labels.get(int(peak_h), f"{peak_h:g}")
    out.append(f"Highest rung reached: {label} (history: {label_h}). The risk taken is "
               "part of the price of any gain.")
    cas = read("casualties")
    if cas:
        out.append(f"Casualties in your crisis: {cas:g}.")
    if d.decisions:
        war = [x for x in d.decisions
               if _war(x.after.counts) - _war(x.alternative_after.counts) >= 0.05 * x.after.n]
        if war:
            x = war[0]
            out.append(f"Your decision of {x.label} ({x.choice_label}) raised the simulated "
                       "chance of war or invasion the most visibly, against the record's "
                       "choice on the same simulated crises.")
    return out


def _war(counts: dict[str, int]) -> int:
    return sum(counts.get(k, 0) for k in ("air_strike", "invasion", "conventional_war",
                                          "tactical_nuclear", "strategic_exchange"))


@dataclass(frozen=True)
class Essay:
    question: str
    quote: str
    locator: str
    game: Callable[[Reader, Debrief, Reader], list[str]]
    sources: tuple[SourcePoint, ...]


ESSAYS: dict[str, tuple[Essay, ...]] = {
    "cuba-1962": (
        Essay(
            question="Did the way the crisis ended show that the American policy of "
                     "containment had failed? Weigh the claim.",
            quote="containment had failed",
            locator="notes, card 9 of 9",
            game=_containment,
            sources=(
                SourcePoint("The island kept its communist government next to the United "
                            "States after the settlement.", "notes", "card 8 of 9",
                            "Cuba remains communist in the backyard"),
                SourcePoint("The notes also credit the outcome with securing West Berlin.",
                            "notes", "card 8 of 9", "Ensured survival of West Berlin"),
                SourcePoint("The Turkish missiles were traded quietly, kept out of the "
                            "public bargain.", "notes", "card 7 of 9",
                            "not incorporated into a public settlement"),
                SourcePoint("The CIA read the Soviet retreat as an admission of American "
                            "strategic superiority.", "cia_memo", "Summary",
                            "US global strategic superiority"),
            ),
        ),
        Essay(
            question="Was putting missiles on Cuba a reckless gamble by Khrushchev that "
                     "won the Soviet Union nothing of note? Weigh the view.",
            quote="reckless piece of international gambling",
            locator="notes, card 9 of 9",
            game=_gamble,
            sources=(
                SourcePoint("The CIA called the deployment a bold gamble.", "cia_memo",
                            "Summary", "bold gamble in deploying strategic missiles"),
                SourcePoint("It judged that Khrushchev never weighed what failure would "
                            "cost him.", "cia_memo", "Buildup in Cuba",
                            "did not candidly examine the consequences"),
                SourcePoint("The memorandum has the gamble turning into his worst defeat.",
                            "cia_memo", "Summary",
                            "boldest foreign policy gamble into his greatest defeat"),
                SourcePoint("Castro felt abandoned by the bargain made over his head.",
                            "notes", "card 7 of 9", "Castro saw it as a humiliating betrayal"),
                SourcePoint("Kennedy was ready to let the ageing Jupiters go, quietly.",
                            "notes", "card 7 of 9", "willing to remove the already"),
                SourcePoint("Moscow came out resolved to win back its standing.", "notes",
                            "card 8 of 9", "determination to restore its international status"),
            ),
        ),
    ),
}


def essays_for(session: Session, hist: Session, d: Debrief) -> list[EssayView]:
    out = []
    for essay in ESSAYS.get(session.scenario.id, ()):
        out.append(EssayView(essay.question, essay.quote, essay.locator,
                             tuple(essay.game(_reader(session), d, _reader(hist))),
                             essay.sources))
    return out
