"""The classroom through its JSON API and pages (FastAPI's TestClient), on SQLite and on
PostgreSQL: play, letters with their delay, the fog of war, tokens, limits, a restart."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from crisislab.store import Store  # noqa: E402
from crisislab.web.app import create_app  # noqa: E402
from crisislab.web.classroom import Classroom  # noqa: E402
from tests.web_support import load, postgres_cluster  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('web') / 'class.db'}"
        return
    with postgres_cluster() as url:
        yield url


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 1, 1, 9, 0)

    def __call__(self) -> dt.datetime:
        return self.now


def make_client(url: str, clock: Clock | None = None, **kwargs: Any) -> TestClient:
    room = Classroom(Store(url), clock=clock or Clock(), load=load)
    return TestClient(create_app(room=room, **kwargs))


@pytest.fixture()
def client(db_url: str) -> TestClient:
    return make_client(db_url)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def known_only_to(mine: dict[str, Any], theirs: dict[str, Any]) -> set[str]:
    """The labels of what one seat's briefing holds in confidence or as its own that
    nothing in the other seat's briefing shows."""
    return {f["label"] for f in mine["confidential"] + mine["own"]} - {
        f["label"]
        for group in ("own", "intelligence", "confidential", "world", "quiet")
        for f in theirs[group]
    }


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {
        "scenario": "cuba-1962",
        "worlds": 2,
        "start": "crisis",
        "debrief_runs": 20,
        "seats": {"usa": "human", "ussr": "human", "cuba": "historical"},
        **fields,
    }
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def join(client: TestClient, code: str, name: str, **where: Any) -> dict[str, Any]:
    r = client.post("/api/join", json={"code": code, "name": name, **where})
    assert r.status_code == 201, r.text
    return r.json()


def seat(client: TestClient, token: str) -> dict[str, Any]:
    r = client.get("/api/seat", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_a_class_plays_a_turn_with_a_team_a_letter_and_the_fog_of_war(client: TestClient) -> None:
    s = create(client)
    kennedy = join(client, s["code"], "Ann", world=1, seat="usa")
    adviser = join(client, s["code"], "Ben", world=1, seat="usa")
    khrushchev = join(client, s["code"], "Cleo", world=1, seat="ussr")
    assert (kennedy["role"], adviser["role"], khrushchev["role"]) == (
        "decider",
        "adviser",
        "decider",
    )
    start = seat(client, kennedy["token"])
    assert start["date"] == "14 October 1962, morning"
    assert start["briefing"]["options"] and all(
        o["reason"] for o in start["briefing"]["options"] if not o["available"]
    )

    # the adviser proposes; the decider's team sees it, the other seat does not
    options = [o["id"] for o in start["briefing"]["options"] if o["available"]]
    assert (
        client.post(
            "/api/seat/vote", json={"action": options[0]}, headers=bearer(adviser["token"])
        ).status_code
        == 200
    )
    assert [v["name"] for v in seat(client, kennedy["token"])["votes"]] == ["Ben"]
    assert seat(client, khrushchev["token"])["votes"] == []
    r = client.post(
        "/api/seat/choice", json={"action": options[0]}, headers=bearer(adviser["token"])
    )
    assert r.status_code == 403 and "decider" in r.json()["error"]

    # a letter from Khrushchev takes the scenario's delay to reach Kennedy
    r = client.post(
        "/api/seat/letters",
        headers=bearer(khrushchev["token"]),
        json={"to": "usa", "terms": ["noninvasion"], "text": "Pledge it."},
    )
    assert r.status_code == 201 and r.json()["arrives_turn"] == start["turn"] + 1
    assert "Pledge it." not in str(seat(client, kennedy["token"]))
    for who in (kennedy, khrushchev):
        r = client.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(who["token"]))
        assert r.status_code == 200, r.text
    after = seat(client, kennedy["token"])
    assert after["turn"] == start["turn"] + 1  # world 1 played: both seats chose
    assert after["date"] == "14 October 1962, evening"
    letters = after["briefing"]["letters"]
    assert any("Pledge it." in x["text"] and "delivered" in x["status"] for x in letters)
    facilitator = client.get("/api/class", headers=bearer(s["facilitator_token"])).json()
    assert [w["turn"] for w in facilitator["world_views"]] == [start["turn"] + 1, start["turn"]]

    # each seat sees only its own actor's knowledge
    usa = seat(client, kennedy["token"])["briefing"]
    ussr = seat(client, khrushchev["token"])["briefing"]
    usa_only = known_only_to(usa, ussr)
    assert usa_only, "the US seat should know something the Soviet seat does not"
    for label in usa_only:
        assert label not in str(seat(client, khrushchev["token"]))


def test_two_submissions_for_one_seat_keep_one_and_explain_the_other(client: TestClient) -> None:
    s = create(client, worlds=1)
    me = join(client, s["code"], "Ann", seat="usa")
    join(client, s["code"], "Cleo", seat="ussr")
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def submit() -> None:
        barrier.wait()
        results.append(
            client.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(me["token"]))
        )

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409]
    refused = next(r for r in results if r.status_code == 409).json()["error"]
    assert "already made by Ann" in refused


def walk(
    client: TestClient, seat_token: str, other_token: str, facilitator: str
) -> list[tuple[str, str, int]]:
    """Call every route with tokens that must not work; return what answered."""
    answered = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", set()) - {"HEAD"}
        if not methods or path.startswith(("/static", "/docs", "/redoc", "/openapi")):
            continue
        for method in methods:
            if path.startswith("/api/seat") or path.startswith("/api/class"):
                tries = [{}, bearer("not-a-token")]
                if path.startswith("/api/class"):
                    tries.append(bearer(seat_token))  # a seat is not the facilitator
                for headers in tries:
                    r = client.request(method, path, headers=headers, json={})
                    answered.append((method, path, r.status_code))
            elif "{token}" in path:
                wrong = facilitator if path.startswith("/play") else seat_token
                for token in (wrong, "not-a-token"):
                    url = path.replace("{token}", token).replace("{action}", "advance")
                    r = client.request(method, url)
                    answered.append((method, url, r.status_code))
    return answered


def test_every_endpoint_refuses_a_wrong_token(client: TestClient) -> None:
    s = create(client, worlds=1)
    a = join(client, s["code"], "Ann", seat="usa")
    b = join(client, s["code"], "Cleo", seat="ussr")
    answered = walk(client, a["token"], b["token"], s["facilitator_token"])
    assert len({p for _, p, _ in answered}) >= 25  # every guarded route was tried
    wrong = [x for x in answered if x[2] != 403]
    assert wrong == []
    # and a seat's token reads only its own seat, whatever it asks
    assert seat(client, b["token"])["me"]["seat"] == "ussr"


def test_names_and_letters_are_escaped(client: TestClient) -> None:
    s = create(client, worlds=1)
    evil = "<script>alert('x')</script>"
    a = join(client, s["code"], evil, seat="usa")
    b = join(client, s["code"], "Cleo", seat="ussr")
    client.post("/api/seat/letters", headers=bearer(a["token"]), json={"to": "ussr", "text": evil})
    client.post(
        "/api/class/inject",
        headers=bearer(s["facilitator_token"]),
        json={"sender": evil, "text": evil},
    )
    client.post("/api/class/advance", headers=bearer(s["facilitator_token"]))
    pages = [
        f"/play/{a['token']}",
        f"/play/{b['token']}",
        f"/play/{b['token']}/live",
        f"/facilitate/{s['facilitator_token']}",
    ]
    for url in pages:
        html = client.get(url).text
        assert "<script>alert" not in html, url
        assert "&lt;script&gt;alert(" in html, url
    assert "<script>" not in client.get(f"/facilitate/{s['facilitator_token']}/debrief").text


def test_request_size_and_rate_are_limited(db_url: str) -> None:
    c = make_client(db_url, rate=1.0, burst=5)
    r = c.post("/api/join", content=b"x" * 100_000, headers={"content-type": "application/json"})
    assert r.status_code == 413
    codes = [c.get("/api/seat", headers=bearer("same-token")).status_code for _ in range(12)]
    assert 429 in codes and codes[0] == 403


def test_a_restart_resumes_the_session_where_it_was(db_url: str) -> None:
    clock = Clock()
    first = make_client(db_url, clock)
    s = create(first, turn_seconds=300)
    a = join(first, s["code"], "Ann", world=1, seat="usa")
    b = join(first, s["code"], "Cleo", world=1, seat="ussr")
    for who in (a, b):
        first.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(who["token"]))
    first.post(
        "/api/seat/letters",
        headers=bearer(b["token"]),
        json={"to": "usa", "terms": ["withdrawal"], "text": "Still pending."},
    )
    first.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(a["token"]))
    clock.now += dt.timedelta(seconds=100)
    before = seat(first, a["token"])
    before_fac = first.get("/api/class", headers=bearer(s["facilitator_token"])).json()

    second = make_client(db_url, clock)  # a new process: nothing in memory
    after = seat(second, a["token"])
    assert after["turn"] == before["turn"] and after["briefing"] == before["briefing"]
    assert after["chosen"]["by"] == "Ann"  # the pending choice survived
    assert after["clock"]["seconds_left"] == 200  # the timer too
    after_fac = second.get("/api/class", headers=bearer(s["facilitator_token"])).json()
    assert (
        after_fac["world_views"][0]["seats"][1]["letters_this_turn"]
        == before_fac["world_views"][0]["seats"][1]["letters_this_turn"]
        != []
    )
    r = second.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(b["token"]))
    assert r.status_code == 200
    assert seat(second, a["token"])["turn"] == before["turn"] + 1


def played_turns(url: str, code: str) -> list[dict[str, Any]]:
    """The turns world 1 of a class session has played, as its game row records them."""
    from sqlalchemy import select

    from crisislab.store import GameRow
    from crisislab.web.models import ClassRow, WorldRow

    with Store(url).session() as s:
        class_id = s.scalar(select(ClassRow.id).where(ClassRow.code == code))
        game_id = s.scalar(
            select(WorldRow.game_id).where(WorldRow.class_id == class_id, WorldRow.number == 1)
        )
        game = s.get(GameRow, game_id)
        assert game is not None
        return list(game.log[1:])


class Stopped(Exception):
    """The server stops (in a test)."""


def test_a_restart_plays_the_turn_whose_every_choice_was_saved(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    room = Classroom(Store(db_url), clock=clock, load=load)
    first = TestClient(create_app(room=room))
    twin = make_client(db_url, clock)  # the same game on a server that never stops
    s, t = (create(c, worlds=1, turn_seconds=300, seed=7) for c in (first, twin))
    a, b = (join(first, s["code"], name, seat=x) for name, x in (("Ann", "usa"), ("Cleo", "ussr")))
    ta, tb = (join(twin, t["code"], name, seat=x) for name, x in (("Ann", "usa"), ("Cleo", "ussr")))
    turn = seat(first, a["token"])["turn"]
    picks = {}  # the last option each seat may take, not the record's move
    for who, actor in ((a, "usa"), (b, "ussr")):
        options = seat(first, who["token"])["briefing"]["options"]
        picks[actor] = [o["id"] for o in options if o["available"]][-1]

    def choose(c: TestClient, who: dict[str, Any], actor: str) -> int:
        r = c.post("/api/seat/choice", json={"action": picks[actor]}, headers=bearer(who["token"]))
        return r.status_code

    assert choose(twin, ta, "usa") == choose(twin, tb, "ussr") == 200
    assert choose(first, a, "usa") == 200

    def stop(*_: Any) -> None:
        raise Stopped

    monkeypatch.setattr(room, "_play", stop)  # the server stops once the last choice is saved
    with pytest.raises(Stopped):
        choose(first, b, "ussr")
    assert played_turns(db_url, s["code"]) == []  # every choice saved, the turn not played

    second = make_client(db_url, clock)  # a new process: rebuilding plays the turn
    view = seat(second, a["token"])
    assert view["turn"] == turn + 1 and view["chosen"] is None
    assert view["clock"]["seconds_left"] == 300
    third = make_client(db_url, clock)  # and only once, however often the server restarts
    assert seat(third, b["token"])["turn"] == turn + 1
    played = played_turns(db_url, s["code"])
    assert [p["turn"] for p in played] == [turn]
    assert played[0]["choices"] == picks and "followed" not in played[0]
    assert played == played_turns(db_url, t["code"])  # as the server that never stopped


def test_the_timer_plays_the_turn_and_pausing_keeps_its_time(db_url: str) -> None:
    clock = Clock()
    room = Classroom(Store(db_url), clock=clock, load=load)
    c = TestClient(create_app(room=room))
    s = create(c, worlds=1, turn_seconds=60)
    a = join(c, s["code"], "Ann", seat="usa")
    turn = seat(c, a["token"])["turn"]
    clock.now += dt.timedelta(seconds=30)
    room.tick()
    assert seat(c, a["token"])["turn"] == turn
    fac = bearer(s["facilitator_token"])
    assert c.post("/api/class/pause", headers=fac).status_code == 200
    r = c.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(a["token"]))
    assert r.status_code == 400 and "paused" in r.json()["error"]
    clock.now += dt.timedelta(seconds=600)
    room.tick()
    assert seat(c, a["token"])["turn"] == turn  # paused: the clock stands
    c.post("/api/class/resume", headers=fac)
    c.post("/api/class/extend", json={"seconds": 15}, headers=fac)
    assert seat(c, a["token"])["clock"]["seconds_left"] == 45
    clock.now += dt.timedelta(seconds=46)
    assert room.tick() >= 1
    view = seat(c, a["token"])
    assert view["turn"] == turn + 1 and view["clock"]["seconds_left"] == 60


def test_an_inject_reaches_only_the_seats_it_was_sent_to(client: TestClient) -> None:
    s = create(client)
    a = join(client, s["code"], "Ann", world=1, seat="usa")
    b = join(client, s["code"], "Cleo", world=1, seat="ussr")
    c = join(client, s["code"], "Dan", world=2, seat="usa")
    r = client.post(
        "/api/class/inject",
        headers=bearer(s["facilitator_token"]),
        json={"sender": "The press", "text": "Photos leak.", "world": 1, "to": "usa"},
    )
    assert r.status_code == 201 and r.json() == {"worlds": 1}
    assert [i["text"] for i in seat(client, a["token"])["injects"]] == ["Photos leak."]
    assert seat(client, b["token"])["injects"] == []
    assert seat(client, c["token"])["injects"] == []


def test_uploaded_scenarios_are_checked_and_never_run(client: TestClient) -> None:
    bad = "scenario:\n  id: x\n  version: !!python/object/apply:os.system ['touch /tmp/x']\n"
    r = client.post("/api/sessions", json={"scenario": "evil.yaml", "scenario_yaml": bad})
    assert r.status_code == 400
    assert "evil.yaml" in r.json()["error"]
    r = client.post(
        "/api/sessions", json={"scenario": "broken.yaml", "scenario_yaml": "scenario: [1, 2"}
    )
    assert r.status_code == 400 and "broken.yaml" in r.json()["error"]
    mini = (ROOT / "tests" / "data" / "mini.yaml").read_text(encoding="utf-8")
    r = client.post(
        "/sessions",
        data={"worlds": "1", "seat_blue": "human"},
        files={"upload": ("mini.yaml", mini.encode(), "application/yaml")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "A toy standoff" in client.get(r.headers["location"]).text


def test_the_class_debrief_and_the_exports(client: TestClient) -> None:
    s = create(client)
    a = join(client, s["code"], "Ann", world=1, seat="usa")
    fac = bearer(s["facilitator_token"])
    r = client.get("/api/seat/debrief", headers=bearer(a["token"]))
    assert r.status_code == 403  # not before the end: it shows what the seat may not know
    client.post(
        "/api/seat/letters",
        headers=bearer(a["token"]),
        json={"to": "ussr", "terms": ["withdrawal"], "text": "Remove them."},
    )
    client.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(a["token"]))
    client.post("/api/class/advance", headers=fac)
    assert client.post("/api/class/end", headers=fac).status_code == 200
    d = client.get("/api/class/debrief", headers=fac).json()
    assert [w["world"] for w in d["worlds"]] == [1, 2]
    assert d["essays"] and all(len(e["worlds"]) == 2 for e in d["essays"])
    assert d["worlds"][0]["history_outcome"]
    html = client.get(f"/facilitate/{s['facilitator_token']}/debrief").text
    assert html.index("Essay questions") < html.index("The worlds side by side")
    data = client.get("/api/class/export.json", headers=fac).json()
    assert data["worlds"][0]["decisions"][0]["chosen_by"] == "Ann"
    assert data["worlds"][0]["letters"][0]["text"] == "Remove them."
    csv_text = client.get("/api/class/export.csv", headers=fac).text
    assert csv_text.splitlines()[0].startswith("world,kind,date")
    assert re.search(r"^1,letter,.*Remove them\.", csv_text, re.M)
    assert client.get("/api/seat/debrief", headers=bearer(a["token"])).status_code == 200
    r = client.post("/api/join", json={"code": s["code"], "name": "Late"})
    assert r.status_code == 400 and "ended" in r.json()["error"]


def test_the_api_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/api/sessions",
        "/api/join",
        "/api/seat",
        "/api/seat/choice",
        "/api/seat/letters",
        "/api/class/advance",
        "/api/class/debrief",
    ):
        assert p in paths
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("worlds", 13, "number of worlds must be 1 to 12"),
        ("turn_seconds", 5, "timer must be 20 to"),
        ("seed", 2**40, "seed must be 0 to"),
        ("start", "nowhere", "nowhere"),
        ("seats", {"usa": "no-such-agent"}, "usa"),
        (
            "seats",
            {"usa": "historical", "ussr": "historical", "cuba": "historical"},
            "no seat is played by people",
        ),
    ],
)
def test_a_bad_session_is_refused_in_words(
    client: TestClient, field: str, value: Any, words: str
) -> None:
    body = {"seats": {"usa": "human"}, field: value}
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 400, r.text
    assert words in r.json()["error"]


# ---- what is kept in memory: never older than the session, never another seat's ----------


def live(client: TestClient, token: str) -> tuple[str, int]:
    """A seat's live part (as live.js fetches it) and the revision its page would poll."""
    html = client.get(f"/play/{token}/live").text
    return html, client.get(f"/play/{token}/revision").json()["revision"]


def test_the_live_part_kept_in_memory_follows_every_change(client: TestClient) -> None:
    s = create(client)
    fac = bearer(s["facilitator_token"])
    ann = join(client, s["code"], "Ann", world=1, seat="usa")
    ben = join(client, s["code"], "Ben", world=1, seat="usa")
    cleo = join(client, s["code"], "Cleo", world=1, seat="ussr")
    dan = join(client, s["code"], "Dan", world=2, seat="usa")
    before, revision = live(client, ann["token"])
    assert live(client, ann["token"]) == (before, revision)  # nothing changed: the same
    assert "Ben proposes" not in before

    options = [o["id"] for o in seat(client, ann["token"])["briefing"]["options"] if o["available"]]
    client.post("/api/seat/vote", json={"action": options[0]}, headers=bearer(ben["token"]))
    html, after = live(client, ann["token"])
    assert after > revision and "Ben proposes" in html
    assert "Ben proposes" not in live(client, cleo["token"])[0]  # another seat's team
    assert "Ben proposes" not in live(client, dan["token"])[0]  # another world

    client.post(
        "/api/seat/letters",
        headers=bearer(cleo["token"]),
        json={"to": "usa", "text": "A private word."},
    )
    assert "A private word." in live(client, cleo["token"])[0]
    assert "A private word." not in live(client, ann["token"])[0]  # not delivered yet
    client.post(
        "/api/class/inject",
        headers=fac,
        json={"sender": "The press", "text": "Photos leak.", "world": 1, "to": "usa"},
    )
    assert "Photos leak." in live(client, ann["token"])[0]
    assert "Photos leak." not in live(client, cleo["token"])[0]

    client.post("/api/class/pause", headers=fac)
    assert "paused the game" in live(client, dan["token"])[0]
    client.post("/api/class/resume", headers=fac)
    assert "paused the game" not in live(client, dan["token"])[0]

    turn = seat(client, ann["token"])["turn"]
    for who in (ann, cleo):
        r = client.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(who["token"]))
        assert r.status_code == 200, r.text
    html, _ = live(client, ann["token"])
    assert f'data-turn="{turn + 1}"' in html  # the page reloads for the new turn
    assert client.get(f"/play/{ann['token']}/revision").json()["turn"] == turn + 1
    assert f'data-turn="{turn}"' in live(client, dan["token"])[0]  # world 2 waits

    # what each seat is shown at one revision is its own actor's
    usa = seat(client, ann["token"])["briefing"]
    ussr = seat(client, cleo["token"])["briefing"]
    usa_only = known_only_to(usa, ussr)
    assert usa_only
    cleo_live = live(client, cleo["token"])[0]
    assert not [label for label in usa_only if label in cleo_live]


def test_the_live_part_counts_the_timer_down_without_a_change(db_url: str) -> None:
    clock = Clock()
    c = make_client(db_url, clock)
    s = create(c, worlds=1, turn_seconds=300)
    a = join(c, s["code"], "Ann", seat="usa")
    html, revision = live(c, a["token"])
    assert "5 min 0 s left" in html
    clock.now += dt.timedelta(seconds=61)
    html, same = live(c, a["token"])
    assert same == revision and "3 min 59 s left" in html


def at_once(client: TestClient, tokens: list[str]) -> list[int]:
    """Every seat chooses "follow" while every seat's page polls, all at once; the
    answers' status codes."""
    barrier = threading.Barrier(len(tokens) * 2)
    codes: list[int] = []

    def choose(token: str) -> None:
        barrier.wait()
        r = client.post("/api/seat/choice", json={"action": "follow"}, headers=bearer(token))
        codes.append(r.status_code)

    def poll(token: str) -> None:
        barrier.wait()
        codes.append(client.get(f"/play/{token}/revision").status_code)
        codes.append(client.get(f"/play/{token}/live").status_code)

    threads = [threading.Thread(target=choose, args=(t,)) for t in tokens]
    threads += [threading.Thread(target=poll, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_seats_of_several_worlds_acting_at_once_play_each_turn_once(client: TestClient) -> None:
    s = create(client, worlds=3)
    seats = [
        join(client, s["code"], f"{actor}{w}", world=w, seat=actor)
        for w in (1, 2, 3)
        for actor in ("usa", "ussr")
    ]
    start = seat(client, seats[0]["token"])["turn"]
    for played in (1, 2):
        codes = at_once(client, [x["token"] for x in seats])
        assert codes == [200] * len(codes) and len(codes) == len(seats) * 3
        views = client.get("/api/class", headers=bearer(s["facilitator_token"])).json()
        assert [w["turn"] for w in views["world_views"]] == [start + played] * 3
        for x in seats:  # and every seat's screen shows its world's new turn
            assert seat(client, x["token"])["turn"] == start + played
            assert f'data-turn="{start + played}"' in live(client, x["token"])[0]


def test_every_answer_carries_the_security_headers_once(client: TestClient) -> None:
    s = create(client, worlds=1)
    a = join(client, s["code"], "Ann", seat="usa")
    urls = ["/", f"/play/{a['token']}", f"/play/{a['token']}/live", "/static/style.css"]
    urls += [f"/play/{a['token']}/revision", "/nothing-here", f"/play/{a['token']}x"]
    for url in urls:
        r = client.get(url)
        assert r.headers["x-frame-options"] == "DENY", url
        assert r.headers["x-content-type-options"] == "nosniff", url
        assert r.headers["referrer-policy"] == "no-referrer", url
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], url
        assert r.headers.get_list("cache-control") == ["no-store"], url
    docs = client.get("/docs")  # the API's page loads its own scripts
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers
    assert docs.headers["x-frame-options"] == "DENY"
