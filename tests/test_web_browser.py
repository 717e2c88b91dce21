"""The classroom in a real browser: Playwright driving Debian's Chromium against a uvicorn
server (``crisislab serve``) started here on a free port, stopped and started again in the
middle of the session. Screenshots of the main pages go to the test's folder."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
sync_api = pytest.importorskip("playwright.sync_api")

from tests.web_support import free_port, postgres_cluster  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SRC = Path(__file__).resolve().parent.parent / "src"
ARTEFACTS = Path(
    os.environ.get("CRISISLAB_ARTEFACTS", Path(__file__).resolve().parent.parent / "artifacts")
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)",
)


class Server:
    def __init__(self, db: str) -> None:
        self.db, self.port = db, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crisislab.cli",
                "serve",
                "--port",
                str(self.port),
                "--db",
                self.db,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server stopped: {self.proc.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(self.url + "/api/scenarios", timeout=5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start within 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


@contextlib.contextmanager
def running(db: str) -> Iterator[Server]:
    """A server on ``db``, started, and stopped afterwards."""
    s = Server(db)
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    with running(f"sqlite:///{tmp_path / 'class.db'}") as s:
        yield s


@pytest.fixture(params=["sqlite", "postgresql"])
def class_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """The server of a class, on the embedded SQLite file and on a throwaway PostgreSQL
    cluster (``serve --db postgresql://...``), so the browser suite covers both stores."""
    if request.param == "sqlite":
        with running(f"sqlite:///{tmp_path / 'class.db'}") as s:
            yield s
        return
    with postgres_cluster() as url, running(url) as s:
        yield s


@pytest.fixture()
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def new_page(browser: Any, width: int) -> Any:
    """A page in its own context (its own person), patient with a busy machine."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(90_000)
    sync_api.expect.set_options(timeout=30_000)
    return context.new_page()


def shot(page: Any, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def test_a_class_plays_in_two_worlds_through_a_restart(class_server: Server, browser: Any) -> None:
    server = class_server
    expect = sync_api.expect
    fac = new_page(browser, 1280)
    fac.goto(server.url + "/")
    form = fac.locator("#create")
    form.locator("[name=worlds]").fill("2")
    form.locator("[name=seat_cuba]").select_option("historical")
    form.locator("[name=debrief_runs]").fill("20")
    form.locator("button[type=submit]").click()
    code = fac.locator(".code").inner_text().strip()
    assert len(code) == 6
    expect(fac.locator("img.qr")).to_be_visible()
    shot(fac, "facilitator")

    def join(name: str, world: str, seat: str) -> Any:
        page = new_page(browser, 1100)
        page.goto(f"{server.url}/join?code={code}")
        page.fill("[name=name]", name)
        page.select_option("[name=world]", world)
        page.select_option("[name=seat]", seat)
        page.click("#join button[type=submit]")
        expect(page.locator(".who")).to_contain_text(name)
        return page

    ann = join("Ann", "1", "usa")  # decides for the United States in world 1
    ben = join("Ben", "1", "usa")  # her adviser
    cleo = join("Cleo", "1", "ussr")
    dan = join("Dan", "2", "usa")
    expect(ben.locator(".who")).to_contain_text("adviser")
    expect(ann.locator("h1")).to_contain_text("14 October 1962, morning")

    # an adviser proposes; his decider sees it live, the other seat never does
    ben.locator("#act button[data-option]:not([disabled])").first.click()
    expect(ann.locator(".votes")).to_contain_text("Ben proposes", timeout=30_000)

    # the letter form offers, for each recipient, only the channels between the two
    def channels() -> list[str]:
        return list(
            cleo.eval_on_selector_all(
                "#write [name=channel] option:not([disabled])", "os => os.map(o => o.value)"
            )
        )

    cleo.select_option("#write [name=to]", "usa")
    cleo.select_option("#write [name=channel]", "back_channel")
    cleo.select_option("#write [name=to]", "cuba")
    assert channels() == ["letters", "statements", "united_nations"]
    assert cleo.input_value("#write [name=channel]") == "letters"  # not the back channel
    cleo.select_option("#write [name=to]", "nato")
    assert channels() == ["letters", "statements"]
    # Khrushchev writes to Kennedy (the back channel is theirs); it is in transit until
    # the turn is played
    cleo.select_option("#write [name=to]", "usa")
    assert channels() == ["letters", "back_channel", "statements", "united_nations"]
    cleo.check("#write input[value=noninvasion]")
    cleo.fill("#write [name=text]", "Pledge not to invade and we can talk.")
    cleo.click("#write button[type=submit]")
    expect(cleo.locator(".note")).to_contain_text("Letter written")
    assert "Pledge not to invade" not in ann.content()
    shot(ann, "seat-before")

    ann.click("#act button[data-option=follow]")
    cleo.click("#act button[data-option=follow]")
    dan.click("#act button[data-option=follow]")
    for page in (ann, cleo, dan):
        expect(page.locator("h1")).to_contain_text("14 October 1962, evening", timeout=30_000)
    expect(ann.locator(".letters")).to_contain_text("Pledge not to invade")
    assert "Pledge not to invade" not in dan.content()  # another world
    assert "Ben proposes" not in cleo.content()

    # an inject from an offstage actor arrives on the seats' screens without a reload
    inject = fac.locator("#inject")
    inject.locator("[name=sender]").select_option("The press")
    inject.locator("[name=text]").fill("Reporters ask about unusual activity in Cuba.")
    inject.locator("button[type=submit]").click()
    for page in (ann, dan):
        expect(page.locator(".injects")).to_contain_text("Reporters ask", timeout=30_000)

    # fog of war: what the US seat alone knows is not on the Soviet screen
    def knows(page: Any) -> set[str]:
        token = page.url.split("/play/")[1].split("?")[0]
        request = urllib.request.Request(
            server.url + "/api/seat", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            b = json.load(r)["briefing"]
        return {
            f["label"]
            for g in ("own", "intelligence", "confidential", "world", "quiet")
            for f in b[g]
        }

    usa_only = knows(ann) - knows(cleo)
    assert usa_only
    assert set(ann.locator("dl.facts dt").all_inner_texts()) & usa_only
    cleo_text = cleo.locator("main").text_content() or ""
    assert not [x for x in usa_only if x in cleo_text]
    shot(ann, "seat")

    # the server restarts mid-session; the pages carry on where they were
    server.stop()
    server.start()
    for page in (ann, cleo):
        page.reload()
        expect(page.locator("h1")).to_contain_text("14 October 1962, evening")
    expect(ann.locator(".injects")).to_contain_text("Reporters ask")
    ann.click("#act button[data-option=follow]")
    cleo.click("#act button[data-option=follow]")
    expect(ann.locator("h1")).to_contain_text("15 October 1962, morning", timeout=30_000)

    fac.goto(fac.url.split("?")[0])
    expect(fac.locator("#world-1")).to_contain_text("15 October 1962, morning")
    expect(fac.locator("#world-1")).to_contain_text("Pledge not to invade")
    shot(fac, "facilitator-worlds")
    fac.click("text=End the session and debrief")
    expect(fac.locator("h1")).to_contain_text("Class debrief", timeout=120_000)
    expect(fac.locator("#debrief-world-1")).to_be_visible()
    expect(fac.locator("#debrief-world-2")).to_be_visible()
    expect(fac.locator(".essays")).to_contain_text("containment")
    shot(fac, "debrief")


def test_homework_the_replay_viewer_and_the_explorer(server: Server, browser: Any) -> None:
    expect = sync_api.expect
    page = new_page(browser, 1200)
    page.goto(server.url + "/")
    page.click("#homework a[href='/replay']")
    page.click("#builtin a[href='/replay/cuba-1962']")
    expect(page.locator("#day h1")).to_have_text("Thursday 24 May 1962")
    page.select_option("#jump [name=day]", "1962-10-16")
    page.click("#jump button[type=submit]")
    expect(page.locator("#day")).to_contain_text("Tuesday 16 October 1962, morning")
    expect(page.locator("#day .citations a").first).to_have_attribute(
        "href", re.compile(r"^https://")
    )
    shot(page, "replay-day")
    page.click("#next")
    expect(page.locator("#day h1")).to_have_text("Thursday 18 October 1962")
    assert page.url.endswith("/replay/cuba-1962/1962-10-18")

    page.goto(server.url + "/explore?scenario=october-1973")
    page.select_option("#explore select[name=seat_usa]", "hawk")
    page.fill("#explore [name=runs]", "1000")
    page.click("#explore button[type=submit]")
    expect(page.locator("#result[data-status=done]")).to_be_visible(timeout=120_000)
    expect(page.locator("#odds-chart svg.chart")).to_be_visible()
    expect(page.locator("#war-chart svg.chart")).to_be_visible()
    expect(page.locator("#result table.odds")).to_contain_text("played by a hawk")
    shot(page, "explorer")
