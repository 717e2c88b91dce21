"""What a seat and the facilitator read is plain language, and a facilitator's inject of
one of the scenario's events changes that world's crisis (and only what each seat could
observe of it), on SQLite through FastAPI's TestClient.

The walk plays a whole scripted game of cuba-1962 (from the U-2 photographs to its end)
in the web app and in the terminal's renderer, and fails on anything a person would not
read as words: an id of an action, event, variable, source or actor, a token joined with
``_``, a clock label such as ``1962-10-27 pm``, a fraction with more than two decimals.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402
from rich.console import Console  # noqa: E402

from crisislab.play.briefing import brief  # noqa: E402
from crisislab.play.session import GameError, GameSetup, Session, follow_choice  # noqa: E402
from crisislab.play.tui import Terminal  # noqa: E402
from crisislab.store import Store  # noqa: E402
from crisislab.web.app import create_app  # noqa: E402
from crisislab.web.classroom import Classroom  # noqa: E402
from tests.web_support import load  # noqa: E402

JOINED = re.compile(r"\b[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+\b")
CLOCK_LABEL = re.compile(r"\b\d{4}-\d\d-\d\d(?: [ap]m)?\b")
RAW_FRACTION = re.compile(r"(?<![\d.])\d+\.\d{3,}\b")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


class _Text(HTMLParser):
    """The text of a page as a person reads it: text nodes, not markup or attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(" ".join(p.parts).split())


def forbidden_ids(sc: Any) -> set[str]:
    """Every id of the scenario that is not also a word its prose uses (``quarantine``
    is both an id and a word; ``usa`` or ``cia_memo`` are only ids)."""
    spec = sc.spec
    ids = (
        {a.id for a in spec.actions}
        | {e.id for e in spec.events}
        | {v.id for v in spec.variables}
        | {s.id for s in spec.sources}
        | {a.id for a in spec.actors}
        | {o.id for o in spec.outcomes}
        | {p.id for p in spec.parameters}
        | {m.id for m in spec.messages}
    )
    prose = " ".join(
        [
            *(a.label + " " + a.summary for a in spec.actions),
            *(e.label + " " + e.summary for e in spec.events),
            *(v.description for v in spec.variables),
            *(s.title for s in spec.sources),
            *(a.name for a in spec.actors),
            *(o.label + " " + o.summary for o in spec.outcomes),
            *(
                f"{c.locator} {c.anchor or ''}"
                for x in [*spec.actions, *spec.events]
                for c in x.cite
            ),
        ]
    )
    words = set(WORD.findall(prose))
    return {i for i in ids if i not in words}


def problems(text: str, ids: set[str], where: str) -> list[str]:
    found = [
        f"{where}: id '{m.group(0)}' in …{text[max(0, m.start() - 60) : m.end() + 20]}…"
        for m in WORD.finditer(text)
        if m.group(0) in ids
    ]
    for rx, what in (
        (JOINED, "joined token"),
        (CLOCK_LABEL, "clock label"),
        (RAW_FRACTION, "raw fraction"),
    ):
        found += [
            f"{where}: {what} '{m.group(0)}' in …{text[max(0, m.start() - 60) : m.end() + 20]}…"
            for m in rx.finditer(text)
        ]
    return found


def report(found: list[str]) -> str:
    """Each problem once, with the first place it was seen."""
    first: dict[str, str] = {}
    for f in found:
        where, what = f.split(": ", 1)
        first.setdefault(what, where)
    return "\n".join(f"{w} (first: {where})" for w, where in first.items())


def test_the_checks_catch_what_they_are_for() -> None:
    sc = load("cuba-1962")
    ids = forbidden_ids(sc)
    assert {"usa", "cia_memo", "usa_wait"} <= ids and "quarantine" not in ids
    assert problems("Kennedy chose usa_wait", ids, "x")
    assert problems("written 1962-10-27 pm", ids, "x")
    assert problems("a share of 0.333333", ids, "x")
    assert problems("notes from usa", ids, "x")
    assert not problems("Saturday 27 October, evening: 40 missiles, 33%, DEFCON 2.5", ids, "x")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 9, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def client_on(url: str) -> TestClient:
    return TestClient(create_app(room=Classroom(Store(url), clock=Clock(), load=load)))


def new_class(c: TestClient, worlds: int = 1, **fields: Any) -> dict[str, Any]:
    r = c.post(
        "/api/sessions",
        json={
            "scenario": "cuba-1962",
            "worlds": worlds,
            "start": "crisis",
            "debrief_runs": 0,
            "seats": {"usa": "human", "ussr": "human", "cuba": "human"},
            **fields,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


def join(c: TestClient, code: str, name: str, **where: Any) -> str:
    r = c.post("/api/join", json={"code": code, "name": name, **where})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def seat(c: TestClient, token: str) -> dict[str, Any]:
    r = c.get("/api/seat", headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_whole_game_on_the_web_reads_as_plain_words(tmp_path: Path) -> None:
    sc = load("cuba-1962")
    ids = forbidden_ids(sc)
    c = client_on(f"sqlite:///{tmp_path / 'class.db'}")
    s = new_class(c)
    fac, ftoken = bearer(s["facilitator_token"]), s["facilitator_token"]
    tokens = {
        a: join(c, s["code"], name, seat=a)
        for a, name in (("usa", "Ann"), ("ussr", "Cleo"), ("cuba", "Dan"))
    }
    found: list[str] = []
    turn = 0
    done = False
    while not done:
        # every seat's page around the letter and the injects, one seat's (in turn) on
        # the other turns
        every = turn in (0, 2, 3, 25, 26)
        shown = list(tokens.items()) if every else [list(tokens.items())[turn % 3]]
        for actor, token in shown:
            text = page_text(c.get(f"/play/{token}").text)
            found += problems(text, ids, f"{actor} at turn {turn}")
            done = "The crisis is over" in text
        if turn % 12 == 0 or turn in (2, 25):
            found += problems(
                page_text(c.get(f"/facilitate/{ftoken}").text), ids, f"facilitator at turn {turn}"
            )
        if turn == 1:
            r = c.post(
                "/api/seat/letters",
                headers=bearer(tokens["ussr"]),
                json={"to": "usa", "terms": ["noninvasion"], "text": "Pledge it."},
            )
            assert r.status_code == 201, r.text
            r = c.post(
                "/api/class/inject",
                headers=fac,
                json={"sender": "The press", "text": "Photographs leak.", "to": "cuba"},
            )
            assert r.status_code == 201, r.text
        if turn == 24:  # 26 October: the quarantine is in force
            r = c.post("/api/class/inject-event", headers=fac, json={"event": "submarine_incident"})
            assert r.status_code == 201, r.text
        if not done:
            r = c.post("/api/class/advance", headers=fac)
            assert r.status_code == 200, r.text
        turn += 1
    assert turn > 40  # the walk went through the crisis
    assert c.post("/api/class/end", headers=fac).status_code == 200
    found += problems(page_text(c.get(f"/facilitate/{ftoken}").text), ids, "facilitator")
    found += problems(page_text(c.get(f"/facilitate/{ftoken}/debrief").text), ids, "class debrief")
    for actor, token in tokens.items():
        found += problems(page_text(c.get(f"/play/{token}").text), ids, f"{actor} at end")
    assert found == [], report(found)


def test_a_whole_game_in_the_terminal_reads_as_plain_words() -> None:
    sc = load("cuba-1962")
    ids = forbidden_ids(sc)
    seats = {"usa": "human", "ussr": "human", "cuba": "historical"}
    start = sc.clock.first_of_phase("crisis")
    session = Session.new(sc, GameSetup("cuba-1962", 0, seats, start_turn=start))
    console = Console(file=io.StringIO(), width=110, highlight=False, color_system=None)
    terminal = Terminal(session, console, clear=False)
    found: list[str] = []
    letters = [{"sender": "ussr", "to": "usa", "terms": ["noninvasion"], "text": "Pledge"}]
    while not session.done:
        # a seat's screen every other turn, the seats in turn (both around the letter)
        shown = (
            session.humans
            if session.turn - start in (2, 3)
            else [session.humans[session.turn // 2 % 2]]
            if session.turn % 2 == 0
            else []
        )
        for actor in shown:
            console.file = io.StringIO()
            b = brief(session, actor)
            terminal.render(b)
            terminal._info(b, [str(session.turn % len(b.options) + 1)])
            found += problems(
                console.file.getvalue(),
                ids,  # type: ignore[attr-defined]
                f"{actor} at {session.turn_label()}",
            )
        session.play_turn(
            {a: follow_choice(session, a) for a in session.humans},
            letters if session.turn == start + 2 else [],
        )
    assert found == [], report(found)


# ---- injected events ---------------------------------------------------------------------


def to_quarantine(c: TestClient, fac: dict[str, str], turns: int = 24) -> None:
    for _ in range(turns):
        assert c.post("/api/class/advance", headers=fac).status_code == 200


def test_an_injected_event_changes_one_world_and_keeps_the_fog(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'class.db'}"
    c = client_on(url)
    s = new_class(
        c, worlds=2, seats={"usa": "human", "ussr": "human", "cuba": "human"}, chance="history"
    )
    fac = bearer(s["facilitator_token"])
    usa = join(c, s["code"], "Ann", world=1, seat="usa")
    ussr = join(c, s["code"], "Cleo", world=1, seat="ussr")
    cuba = join(c, s["code"], "Dan", world=1, seat="cuba")
    other = join(c, s["code"], "Eve", world=2, seat="usa")
    to_quarantine(c, fac)
    view = c.get("/api/class", headers=fac).json()
    assert {
        "event": "submarine_incident",
        "label": "US ships force a Soviet submarine to the surface",
    } in view["injectable"]
    before = {f["label"]: f["value"] for f in view["world_views"][0]["state"]}

    r = c.post(
        "/api/class/inject-event", headers=fac, json={"event": "submarine_incident", "world": 1}
    )
    assert r.status_code == 201, r.text
    assert r.json()["worlds"] == [1]
    pending = c.get("/api/class", headers=fac).json()["world_views"][0]["events_injected"]
    assert [(e["event"], e["happened"]) for e in pending] == [("submarine_incident", None)]
    # nobody reads of it before it happens
    assert "submarine" not in " ".join(n["text"] for n in seat(c, usa)["briefing"]["latest"])

    # a restart before the turn is played keeps the inject
    c = client_on(url)
    to_quarantine(c, fac, 1)
    view = c.get("/api/class", headers=fac).json()
    one, two = view["world_views"]
    after = {f["label"]: f["value"] for f in one["state"]}
    assert after != before
    assert [(e["event"], e["happened"]) for e in one["events_injected"]] == [
        ("submarine_incident", True)
    ]
    assert two["events_injected"] == []  # one world only

    # the fog: the US and Soviet seats read it in their own words, Cuba not at all
    seen_usa = " ".join(n["text"] for n in seat(c, usa)["briefing"]["latest"])
    seen_ussr = " ".join(n["text"] for n in seat(c, ussr)["briefing"]["latest"])
    seen_cuba = " ".join(n["text"] for n in seat(c, cuba)["briefing"]["latest"])
    seen_other = " ".join(n["text"] for n in seat(c, other)["briefing"]["latest"])
    assert "Destroyers drop signalling depth charges on a Soviet submarine" in seen_usa
    assert "may believe war has begun" in seen_ussr
    assert "submarine" not in seen_cuba.lower() and "submarine" not in seen_other.lower()

    # and another restart replays it through the engine: the same state, the same news
    c2 = client_on(url)
    assert c2.get("/api/class", headers=fac).json()["world_views"][0]["state"] == one["state"]
    assert seat(c2, usa)["briefing"] == seat(c, usa)["briefing"]

    # the class debrief and the exports record it
    assert c2.post("/api/class/end", headers=fac).status_code == 200
    d = c2.get("/api/class/debrief", headers=fac).json()
    assert [e["event"] for e in d["worlds"][0]["injected"]] == ["submarine_incident"]
    assert d["worlds"][1]["injected"] == []
    data = c2.get("/api/class/export.json", headers=fac).json()
    assert data["worlds"][0]["injected"][0]["happened"] is True
    csv_text = c2.get("/api/class/export.csv", headers=fac).text
    assert re.search(r"^1,inject,.*,submarine_incident,US ships force", csv_text, re.M)
    html = c2.get(f"/facilitate/{s['facilitator_token']}/debrief").text
    assert "Events the facilitator injected" in html


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"event": "no_such_event"}, "'no_such_event' is not an event of cuba-1962"),
        ({"event": "buildup_shipping"}, "not an event the scenario lets a facilitator inject"),
        ({"event": "submarine_incident", "world": 9}, "there is no world 9"),
        ({"event": "submarine_incident"}, "cannot happen now"),
        ({"world": 1}, "Field required"),
    ],
)
def test_a_bad_event_inject_is_refused_in_words(
    tmp_path: Path, body: dict[str, Any], words: str
) -> None:
    c = client_on(f"sqlite:///{tmp_path / 'class.db'}")
    s = new_class(c)
    r = c.post("/api/class/inject-event", headers=bearer(s["facilitator_token"]), json=body)
    assert r.status_code in (400, 422), r.text
    assert words in r.text
    if r.status_code == 400:
        assert "hint" in r.json()


def test_an_injected_event_fires_as_chance_would_and_nothing_else_changes() -> None:
    sc = load("cuba-1962")
    seats = {"usa": "human", "ussr": "historical", "cuba": "historical"}
    setup = GameSetup("cuba-1962", 5, seats, start_turn=sc.clock.first_of_phase("crisis"))
    plain_game, injected = Session.new(sc, setup), Session.new(sc, setup)
    while injected.cannot_inject("submarine_incident"):
        for g in (plain_game, injected):
            g.play_turn({"usa": follow_choice(g, "usa")}, [])
    assert plain_game.digest() == injected.digest()
    choice = follow_choice(injected, "usa")
    plain_game.play_turn({"usa": choice}, [])
    injected.play_turn({"usa": choice}, [], injected=["submarine_incident"])
    fired = [h["id"] for h in injected.traces[-1].happenings if h["kind"] == "event"]
    assert "submarine_incident" in fired
    idx = sc.variable("incidents").index
    assert injected.state.values[idx, 0] == plain_game.state.values[idx, 0] + 1
    # the other chance events drew from the same stream as without the inject
    others = {h["id"] for h in plain_game.traces[-1].happenings if h["kind"] == "event"}
    assert others <= set(fired)
    assert injected.log[-1]["injected"] == ["submarine_incident"]
    again = Session.rebuild(sc, setup, injected.log)
    assert again.digest() == injected.digest()
    with pytest.raises(GameError, match="not an event the scenario lets"):
        injected.play_turn(
            {"usa": follow_choice(injected, "usa")}, [], injected=["missiles_arrive"]
        )


def test_only_a_chance_event_can_be_marked_injectable() -> None:
    from crisislab.scenario.loader import load_text
    from crisislab.scenario.problems import ScenarioError

    text = (Path(__file__).parent / "data" / "mini.yaml").read_text(encoding="utf-8")
    marked = load_text(
        text.replace(
            "    kind: chance\n    incident: true\n",
            "    kind: chance\n    inject: true\n    incident: true\n",
        ),
        "mini.yaml",
    )
    assert [e.id for e in marked.events if e.inject] == ["clash"]
    ruled = text.replace(
        "    kind: chance\n    incident: true\n    when: posture == 'blockade'"
        "\n    hazard: p_clash\n",
        "    kind: rule\n    inject: true\n    when: posture == 'blockade'\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_text(ruled, "mini.yaml")
    assert "only a chance event can be injected" in str(info.value.problems[0])
