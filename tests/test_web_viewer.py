"""The replay viewer and the explorer of the classroom app (FastAPI's TestClient): the
record day by day as `crisislab replay` tells it, and what-ifs and line-ups with the
numbers `crisislab compare` gives."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from crisislab.cli import app as cli  # noqa: E402
from crisislab.store import Store  # noqa: E402
from crisislab.web.app import create_app  # noqa: E402
from crisislab.web.classroom import Classroom  # noqa: E402
from tests.web_support import load  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SMALL = (100, 20_000)  # the explorer's bounds in these tests, to keep runs short


cached = cache(load)


def make_client(folder: Path, **kwargs: Any) -> TestClient:
    room = Classroom(Store(f"sqlite:///{folder / 'class.db'}"), load=cached)
    return TestClient(create_app(room=room, rate=0, **kwargs))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("viewer"), explore_runs=SMALL) as c:
        yield c


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app with the server's own bounds on the explorer's runs."""
    with make_client(tmp_path_factory.mktemp("strict")) as c:
        yield c


def words(text: str) -> str:
    return " ".join(text.split())


def page_text(html: str) -> str:
    """What a reader sees of a page: no markup, no charts."""
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    html = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    text = words(re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")
    return re.sub(r" ([:;,.])", r"\1", text)  # a tag ends just before the punctuation


def wait_done(client: TestClient, job: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(f"/api/explore/{job}").json()
        if state["status"] in ("done", "failed"):
            return state  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"run {job} did not finish")


# ---- the replay viewer -----------------------------------------------------------------------


def test_the_replay_viewer_tells_the_record_as_crisislab_replay_does(client: TestClient) -> None:
    told = CliRunner().invoke(cli, ["replay", "cuba-1962", "--no-pager"])
    assert told.exit_code == 0, told.output
    terminal = words(told.output)
    contents = client.get("/api/replay/cuba-1962").json()
    days = contents["days"]
    assert days[0]["heading"] == "Thursday 24 May 1962"
    assert len({d["date"] for d in days}) == len(days) > 20
    assert days[-1]["section"] == "Afterwards"
    rows = 0
    for d in days[::3]:  # every row of every third day is the terminal's text
        day = client.get(d["link"].replace("/replay/", "/api/replay/", 1)).json()
        for t in day["times"]:
            for r in t["rows"]:
                assert words(r["what"]) in terminal
                rows += 1
    assert rows > 15

    html = client.get("/replay/cuba-1962/1962-10-16").text
    text = page_text(html)
    assert "Tuesday 16 October 1962, morning" in text
    assert "Kennedy: Kennedy is shown the photographs" in text
    # a citation: the document's title, linked where it is public, the place, the phrase
    assert re.search(r'<a href="https://www\.jfklibrary\.org/[^"]+"[^>]*>[^<]+</a>', html)
    assert (
        "The Cuban Missile Crisis 1962, revision notes in nine cards: card 6 of 9, "
        "“Kennedy assembles ExComm”" in text
    )
    # navigation: the neighbouring days, and a link to share this one
    i = [d["date"] for d in days].index("1962-10-16")
    assert f'href="/replay/cuba-1962/{days[i - 1]["date"]}" rel="prev"' in html
    assert f'href="/replay/cuba-1962/{days[i + 1]["date"]}" rel="next"' in html
    assert "http://testserver/replay/cuba-1962/1962-10-16" in text
    following = client.get(f"/replay/cuba-1962/{days[i + 1]['date']}").text
    assert f"<h1>{days[i + 1]['heading']}</h1>" in following
    # plain language: no seat or rule ids on the page
    sc = load("cuba-1962")
    ids = {a.id for a in sc.spec.actions} | {e.id for e in sc.spec.events} | {"usa", "ussr"}
    for day in ("1962-10-16", "1962-10-27", "1962-10-28"):
        shown = set(
            re.findall(r"[a-z_]+", page_text(client.get(f"/replay/cuba-1962/{day}").text).lower())
        )
        assert not shown & ids, day


def test_a_day_is_found_by_date_and_bad_addresses_say_what_to_do(client: TestClient) -> None:
    r = client.get("/replay/cuba-1962?day=1962-10-19", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/replay/cuba-1962/1962-10-20"  # the next day told
    r = client.get("/replay/cuba-1962", follow_redirects=False)
    assert r.headers["location"] == "/replay/cuba-1962/1962-05-24"
    r = client.get("/api/replay/cuba-1962/1962-10-19")
    assert r.json()["date"] == "1962-10-20"
    last = client.get("/api/replay/cuba-1962/1962-10-28").json()
    assert last["previous"]["date"] == "1962-10-27" and last["next"]["date"] > "1962-10-28"

    r = client.get("/replay/atlantis-1900")
    assert r.status_code == 404
    assert "there is no scenario 'atlantis-1900'" in page_text(r.text)
    assert "cuba-1962" in page_text(r.text) and "Traceback" not in r.text
    r = client.get("/api/replay/atlantis-1900")
    assert r.status_code == 404 and "upload a file" in r.json()["hint"]
    r = client.get("/replay/cuba-1962/the-13th")
    assert r.status_code == 400 and "'the-13th' is not a date" in page_text(r.text)
    r = client.get("/explore/run", params={"seat_usa": "hawk", "runs": "lots"})
    assert r.status_code == 400
    assert "the number of crises must be a whole number, not 'lots'" in page_text(r.text)
    r = client.get("/api/replay/u-0123456789abcdef")
    assert r.status_code == 404 and "upload the file again" in r.json()["hint"]


def test_an_uploaded_scenario_is_checked_then_replayed_and_explored(tmp_path: Path) -> None:
    mini = (ROOT / "tests" / "data" / "mini.yaml").read_text(encoding="utf-8")
    with make_client(tmp_path, explore_runs=SMALL) as client:
        r = client.post(
            "/api/scenarios/upload", json={"name": "broken.yaml", "yaml": "scenario: [1, 2"}
        )
        assert r.status_code == 400 and "broken.yaml" in r.json()["error"]
        r = client.post(
            "/replay/upload",
            files={"upload": ("mini.yaml", mini.encode(), "application/yaml")},
            follow_redirects=False,
        )
        assert r.status_code == 303
        ref = r.headers["location"].removeprefix("/replay/")
        assert ref.startswith("u-")
        day = client.get(f"/replay/{ref}").text
        assert "A toy standoff" in day
        assert "A toy standoff" in client.get(f"/explore?scenario={ref}").text
        # a class session made from the file keeps its pages after a restart
        r = client.post(
            "/api/sessions",
            json={"scenario": "mini.yaml", "scenario_yaml": mini, "seats": {"blue": "human"}},
        )
        assert r.status_code == 201
        fac = client.get(f"/facilitate/{r.json()['facilitator_token']}").text
        assert f'href="/replay/{ref}"' in fac and f"/explore?scenario={ref}" in fac
    with make_client(tmp_path) as restarted:
        assert "A toy standoff" in restarted.get(f"/replay/{ref}").text


# ---- the explorer ----------------------------------------------------------------------------


def test_the_explorer_gives_the_numbers_of_crisislab_compare(client: TestClient) -> None:
    body = {
        "scenario": "october-1973",
        "lineup": {"usa": "hawk", "ussr": "historical"},
        "runs": 120,
        "seed": 3,
    }
    r = client.post("/api/explore", json=body)
    assert r.status_code == 202, r.text
    state = wait_done(client, r.json()["job"])
    assert state["status"] == "done", state["error"]
    assert state["command"] == "crisislab compare october-1973 -l usa=hawk -n 120 --seed 3"
    told = CliRunner().invoke(
        cli,
        [
            "compare",
            "october-1973",
            "-l",
            "usa=hawk",
            "-n",
            "120",
            "--seed",
            "3",
            "--workers",
            "1",
            "-q",
            "--format",
            "json",
        ],
    )
    assert told.exit_code == 0, told.output
    expected = json.loads(told.stdout)
    result = state["result"]
    assert result["columns"] == expected["columns"]
    assert result["differences"] == expected["differences"]
    assert state["names"][1].endswith("played by a hawk: climbs the ladder")
    # the same request again is the same run, at once
    again = client.post("/api/explore", json=body)
    assert again.status_code == 200 and again.json()["job"] == state["job"]

    html = client.get(
        "/explore/run",
        params={"scenario": "october-1973", "seat_usa": "hawk", "runs": "120", "seed": "3"},
    ).text
    assert 'data-status="done"' in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 2
    assert "logarithmic scale" in html
    text = page_text(html)
    base = expected["columns"][0]["outcomes"]
    top = max(base.values(), key=lambda o: o["count"])
    assert top["label"] in text
    assert f"{100 * top['p']:.3g}%" in text
    assert not re.search(r"\b0\.\d{4,}\b", text)  # no raw fractions
    clear = [
        d for d in expected["differences"]["usa=hawk"].values() if d["low"] > 0 or d["high"] < 0
    ]
    assert html.count('class="small clear"') == len(clear)  # bold where it excludes 0
    assert "crisislab compare october-1973 -l usa=hawk -n 120 --seed 3" in text


def test_the_explorer_builds_its_columns_as_crisislab_compare_does(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []

    def recorded(
        scenario: Any, variants: Any, runs: int, seed: int, *args: Any, **kwargs: Any
    ) -> Any:
        seen.append((scenario.id, [v for v in variants], runs, seed))
        raise RuntimeError("stop here")

    monkeypatch.setattr("crisislab.analysis.compare.compare", recorded)
    CliRunner().invoke(
        cli,
        [
            "compare",
            "cuba-1962",
            "-w",
            "hotline",
            "-w",
            "air_strike",
            "-l",
            "usa=dove;cuba=leader:preset=hawk",
            "-n",
            "1000",
            "--seed",
            "7",
            "--workers",
            "1",
            "-q",
        ],
    )
    r = client.post(
        "/api/explore",
        json={
            "what_ifs": ["hotline", "air_strike"],
            "runs": 1000,
            "seed": 7,
            "lineup": {"cuba": "leader:preset=hawk", "usa": "dove"},
        },
    )
    state = wait_done(client, r.json()["job"])
    assert state["status"] == "failed"
    assert state["error"] == "the run failed (RuntimeError: stop here)"
    assert len(seen) == 2 and seen[0] == seen[1]
    assert [v.label for v in seen[1][1]] == [
        "baseline",
        "hotline",
        "air_strike",
        "usa=dove cuba=leader:preset=hawk",
    ]


def test_a_run_does_not_hold_up_other_requests(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    started = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(30)
        raise RuntimeError("released")

    monkeypatch.setattr("crisislab.analysis.compare.compare", slow)
    r = client.post("/api/explore", json={"lineup": {"usa": "hawk"}, "runs": 100})
    assert r.status_code == 202 and r.json()["status"] in ("waiting", "running")
    assert started.wait(30)
    # while it runs, the server answers: the replay, the classroom, the run's own state
    assert client.get("/api/replay/cuba-1962/1962-10-22").status_code == 200
    assert client.get("/api/scenarios").status_code == 200
    running = client.get(f"/api/explore/{r.json()['job']}").json()
    assert running["status"] == "running"
    page = client.get("/explore/run", params={"seat_usa": "hawk", "runs": "100"}).text
    assert '<meta http-equiv="refresh"' in page and "Running" in page
    release.set()
    assert wait_done(client, r.json()["job"])["status"] == "failed"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"scenario": "atlantis-1900", "lineup": {"usa": "hawk"}},
            404,
            "there is no scenario 'atlantis-1900'",
        ),
        ({"what_ifs": ["peace_in_our_time"]}, 400, "unknown what-if 'peace_in_our_time'"),
        (
            {"lineup": {"usa": "hawk"}, "runs": 999},
            400,
            "the number of crises must be 1,000 to 20,000, not 999",
        ),
        (
            {"lineup": {"usa": "hawk"}, "runs": 20_001},
            400,
            "the number of crises must be 1,000 to 20,000, not 20,001",
        ),
        ({"lineup": {"nato": "hawk"}}, 400, "'nato' is not a seat"),
        ({"lineup": {"usa": "llm:big-model"}}, 400, "the explorer has no agent 'llm:big-model'"),
        ({"lineup": {"usa": "historical"}}, 400, "there is nothing to set beside the baseline"),
        ({"what_ifs": ["hotline", "hotline"]}, 400, "a what-if is chosen twice"),
        ({"lineup": {"usa": "hawk"}, "seed": -1}, 400, "the seed must be"),
    ],
)
def test_bad_explorer_requests_get_a_clear_message(
    strict: TestClient, body: dict[str, Any], status: int, message: str
) -> None:
    client = strict  # the server's own bounds
    r = client.post("/api/explore", json=body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    params = {
        "scenario": body.get("scenario", "cuba-1962"),
        "what_if": body.get("what_ifs", []),
        "runs": str(body.get("runs", 2000)),
        "seed": str(body.get("seed", 0)),
        **{f"seat_{k}": v for k, v in body.get("lineup", {}).items()},
    }
    page = client.get("/explore/run", params=params)
    assert page.status_code == status
    assert message in page_text(page.text) and "Traceback" not in page.text


def test_the_pages_are_linked_and_the_api_is_documented(client: TestClient) -> None:
    home = client.get("/").text
    assert 'href="/replay"' in home and 'href="/explore"' in home
    index = client.get("/replay").text
    assert 'href="/replay/cuba-1962"' in index and 'href="/replay/october-1973"' in index
    form = page_text(client.get("/explore?scenario=cuba-1962").text)
    assert "A hotline between the capitals" in form
    assert "Kennedy" in form and "the leader model, set as a dove" in form
    options = client.get("/api/explore/options", params={"scenario": "cuba-1962"}).json()
    assert "hotline" in [w["id"] for w in options["what_ifs"]]
    assert options["runs"] == {"default": 2000, "min": SMALL[0], "max": SMALL[1]}
    paths = client.get("/openapi.json").json()["paths"]
    for p in (
        "/api/replay/{ref}",
        "/api/replay/{ref}/{day}",
        "/api/scenarios/upload",
        "/api/explore",
        "/api/explore/{job}",
        "/api/explore/options",
    ):
        assert p in paths, p
    r = client.post(
        "/api/sessions",
        json={"scenario": "cuba-1962", "start": "crisis", "seats": {"usa": "human"}},
    )
    fac = client.get(f"/facilitate/{r.json()['facilitator_token']}").text
    assert 'href="/replay/cuba-1962"' in fac and 'href="/explore?scenario=cuba-1962"' in fac
