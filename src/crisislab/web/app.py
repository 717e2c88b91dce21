"""The classroom web app: server-rendered pages and a JSON API over one :class:`Classroom`.

Pages carry the secret token in their path (``/play/TOKEN``, ``/facilitate/TOKEN``); the
API takes it as ``Authorization: Bearer TOKEN``. Live updates are polling: a page asks
for the session's revision every two seconds (``static/live.js``) and fetches its live
part again only when it changed. Nothing is fetched from the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crisislab.store import Store
from crisislab.web import viewer_routes, views
from crisislab.web.classroom import (
    OFFSTAGE,
    ClassError,
    Classroom,
    Forbidden,
    SessionSettings,
)
from crisislab.web.models import ClassRow, PlayerRow
from crisislab.web.viewer import RUNS_BOUNDS

HERE = Path(__file__).resolve().parent
MAX_BODY = 64 * 1024  # bytes of a request
MAX_UPLOAD = 2 * 1024 * 1024 + 64 * 1024  # a scenario file (the loader's limit is 2 MB)
UPLOAD_PATHS = ("/sessions", "/api/sessions", "/replay/upload", "/api/scenarios/upload")
OK_NOTES = {
    "chosen": "Your choice is in; the turn is played when every seat has chosen.",
    "voted": "Your proposal is on your team's screen.",
    "letter": "Letter written; it goes when this turn is played.",
    "joined": "You have joined.",
    "done": "Done.",
}


# ---- request limits ----------------------------------------------------------------------


class BodyLimit:
    """Refuse a request whose body is larger than the limit (413), counted as it arrives
    (a missing or false Content-Length does not get past it)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY, upload: int = MAX_UPLOAD) -> None:
        self.app, self.limit, self.upload = app, limit, upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload if scope["path"] in UPLOAD_PATHS else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"error": "the request is larger than {limit:,} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
]
CSP = (
    b"content-security-policy",
    b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
    b"script-src 'self'; frame-ancestors 'none'; form-action 'self'",
)


class Guard:
    """The rate limit (per client address and secret token) and the security headers of
    every answer, as plain ASGI (an ``http`` middleware costs a task and a stream per
    request)."""

    def __init__(self, app: ASGIApp, limiter: RateLimit | None) -> None:
        self.app, self.limiter = app, limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if self.limiter is not None:
            auth = dict(scope.get("headers") or []).get(b"authorization", b"")
            parts = path.split("/")
            token = auth.decode("latin-1").removeprefix("Bearer ").strip() or (
                parts[2] if len(parts) > 2 and parts[1] in ("play", "facilitate") else ""
            )
            client = scope.get("client")
            if not self.limiter.allow((client[0] if client else "", token)):
                refused = JSONResponse(
                    {"error": "too many requests; slow down"},
                    status_code=429,
                    headers={"Retry-After": "1"},
                )
                await refused(scope, receive, send)
                return
        added = SECURITY_HEADERS + (
            [] if path.startswith(("/docs", "/redoc", "/openapi")) else [CSP]
        )
        added = [*added, (b"cache-control", b"no-store")]
        names = {k for k, _ in added}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + added}
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimit:
    """A token bucket per client and secret token: ``rate`` requests a second, bursts of
    ``burst``; more gets 429. Polling a page every two seconds stays far below it."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, key: tuple[str, str]) -> bool:
        now = time.monotonic()
        with self.lock:
            level, then = self.buckets.get(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - then) * self.rate)
            if level < 1:
                self.buckets[key] = (level, now)
                return False
            self.buckets[key] = (level - 1, now)
            if len(self.buckets) > 100_000:
                self.buckets.clear()
            return True


# ---- the API's bodies ----------------------------------------------------------------------


class CreateSession(BaseModel):
    scenario: str = Field(
        "cuba-1962",
        description="A built-in scenario id, or the name "
        "of the uploaded file when scenario_yaml is given.",
    )
    scenario_yaml: str | None = Field(
        None, description="A scenario file's text (YAML); validated, never executed."
    )
    worlds: int = Field(1, description="Parallel worlds (1 to 12).")
    seats: dict[str, str] = Field(
        default_factory=dict,
        description="Seat -> 'human' or "
        "an agent spec as in --agent ('historical', 'hawk'...); "
        "seats not given are played by 'historical'.",
    )
    start: str | None = Field(None, description="The phase to start at, e.g. 'crisis'.")
    turn_seconds: int | None = Field(
        None,
        description="A timer per turn in seconds (20 to 10800); null: the facilitator advances.",
    )
    seed: int = 0
    chance: str = "free"
    debrief_runs: int = Field(
        500, description="Simulated crises per estimate in the class debrief (0 to 100,000)."
    )


class Join(BaseModel):
    code: str
    name: str
    world: int | None = None
    seat: str | None = None


class Choice(BaseModel):
    action: str = Field(..., description="An option's id, or 'follow' for the record's.")


class LetterIn(BaseModel):
    to: str
    public: bool = False
    channel: str | None = Field(
        None,
        description=(
            "A channel's id (the seat's screen lists those it may use, under `channels`); "
            "without one, the first public or private channel, as `public` says, that joins "
            "the seat to `to`."
        ),
    )
    terms: list[str] = Field(default_factory=list)
    text: str = ""
    reply_to: int | None = None
    stance: str = ""


class Extend(BaseModel):
    seconds: int


class Inject(BaseModel):
    sender: str
    text: str
    world: int | None = None
    to: str | None = None


class InjectEvent(BaseModel):
    event: str = Field(
        ...,
        description="An event the scenario marks as injectable "
        "(GET /api/class lists them under 'injectable').",
    )
    world: int | None = Field(
        None, description="One world, or null for every world where the event can happen now."
    )


class Advance(BaseModel):
    world: int | None = None


bearer = HTTPBearer(auto_error=False, description="A seat's or the facilitator's token.")


def _bearer(creds: HTTPAuthorizationCredentials | None) -> str:
    if creds is None:
        raise Forbidden("this needs a secret token: Authorization: Bearer TOKEN")
    return creds.credentials


async def _check_seat(room: Classroom, token: str) -> None:
    """A seat's token is checked from memory when it can be, else in a worker thread."""
    if room.remembered(token) is None:
        await run_in_threadpool(room.player, token)


async def seat_token(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """A seat's token, checked before the request's body is read."""
    token = _bearer(creds)
    await _check_seat(request.app.state.classroom, token)
    return token


def facilitator_token(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """The facilitator's token, checked before the request's body is read."""
    token = _bearer(creds)
    request.app.state.classroom.facilitated(token)
    return token


async def page_seat(request: Request, token: str) -> None:
    """A seat page's token (in its path), checked before any form is read."""
    await _check_seat(request.app.state.classroom, token)


def page_facilitator(request: Request, token: str) -> None:
    request.app.state.classroom.facilitated(token)


SeatToken = Annotated[str, Depends(seat_token)]
FacToken = Annotated[str, Depends(facilitator_token)]


# ---- the app ---------------------------------------------------------------------------------


def create_app(
    db: str | None = None,
    store: Store | None = None,
    room: Classroom | None = None,
    rate: float = 20.0,
    burst: int = 120,
    tick_seconds: float = 1.0,
    explore_runs: tuple[int, int] = RUNS_BOUNDS,
) -> FastAPI:
    """The app over the store at ``db`` (or the given store or classroom);
    ``explore_runs`` bounds the explorer's crises per column."""
    if room is None:
        room = Classroom(store or Store(db, writable=True))
    classroom = room
    limiter = RateLimit(rate, burst)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def clock() -> None:
            while True:
                await asyncio.sleep(tick_seconds)
                with contextlib.suppress(Exception):  # a failing tick must not stop the clock
                    await asyncio.to_thread(classroom.tick)

        task = asyncio.create_task(clock())
        try:
            yield
        finally:
            task.cancel()
            app.state.explorer.shutdown()

    app = FastAPI(
        title="crisislab classroom",
        lifespan=lifespan,
        description="A class plays a crisis in teams, with a facilitator. Seat "
        "and facilitator calls take the secret token as `Authorization: Bearer "
        "TOKEN`; a seat's token reads and acts for that seat only.",
    )
    app.state.classroom = classroom
    app.add_middleware(BodyLimit)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    # the replay viewer and the explorer (web/viewer_routes.py)
    viewer, _ = viewer_routes.register(app, templates, classroom, explore_runs)

    app.add_middleware(Guard, limiter=limiter if rate > 0 else None)

    @app.exception_handler(ClassError)
    async def refused(request: Request, e: ClassError) -> Any:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": e.message, "hint": e.hint}, status_code=e.status)
        return templates.TemplateResponse(
            request, "error.html", {"message": e.message, "hint": e.hint}, status_code=e.status
        )

    # ---- JSON API ------------------------------------------------------------------------

    @app.get("/api/scenarios", tags=["sessions"])
    def api_scenarios() -> list[dict[str, Any]]:
        """The built-in scenarios: id, title, seats people can take, phases."""
        return scenario_choices(classroom)

    @app.post("/api/sessions", tags=["sessions"], status_code=201)
    def api_create(body: CreateSession, request: Request) -> dict[str, Any]:
        """Create a class session; the answer holds the facilitator's secret token (keep
        it) and the join code (share it)."""
        fields = body.model_dump()
        fields["scenario_text"] = fields.pop("scenario_yaml")
        row, token = classroom.create(SessionSettings(**fields))
        base = str(request.base_url).rstrip("/")
        return {
            "code": row.code,
            "facilitator_token": token,
            "facilitator_url": f"{base}/facilitate/{token}",
            "join_url": f"{base}/join?code={row.code}",
        }

    @app.post("/api/join", tags=["seats"], status_code=201)
    def api_join(body: Join, request: Request) -> dict[str, Any]:
        """Join a class session with its code and a display name; the answer holds the
        seat's secret token."""
        p, token = classroom.join(body.code, body.name, body.world, body.seat)
        return {
            "token": token,
            "world": p.world,
            "seat": p.actor,
            "role": p.role,
            "url": f"{str(request.base_url).rstrip('/')}/play/{token}",
        }

    @app.get("/api/seat", tags=["seats"])
    def api_seat(token: SeatToken) -> dict[str, Any]:
        """The seat's screen: the briefing written for its leader, its options (with why
        an option is unavailable), letters, the team's proposals, injects, the clock."""
        row, p = classroom.player(token)
        return seat_view(row, p)

    @app.get("/api/seat/revision", tags=["seats"])
    def api_seat_revision(token: SeatToken) -> dict[str, int]:
        """A number that changes whenever anything in the class session changes."""
        row, p = classroom.player(token)
        return {"revision": row.revision, "turn": classroom.live(row).worlds[p.world].turn}

    @app.post("/api/seat/choice", tags=["seats"])
    def api_choice(body: Choice, token: SeatToken) -> dict[str, str]:
        """The decider's choice for this turn (409 if the seat has already chosen)."""
        return {"action": classroom.choose(token, body.action)}

    @app.post("/api/seat/vote", tags=["seats"])
    def api_vote(body: Choice, token: SeatToken) -> dict[str, str]:
        """A team member's proposal for this turn's option."""
        classroom.vote(token, body.action)
        return {"action": body.action}

    @app.post("/api/seat/letters", tags=["seats"], status_code=201)
    def api_letter(body: LetterIn, token: SeatToken) -> dict[str, Any]:
        """A letter from the seat, sent when the turn is played."""
        return classroom.write(
            token,
            body.to,
            body.public,
            body.terms,
            body.text,
            body.reply_to,
            body.stance,
            body.channel,
        )

    @app.get("/api/seat/debrief", tags=["seats"])
    def api_seat_debrief(token: SeatToken) -> dict[str, Any]:
        """The seat's world beside history, once the world's crisis or the class session
        is over (before that it would show what the seat may not know)."""
        row, p = classroom.player(token)
        if row.status != "ended" and not classroom.live(row).worlds[p.world].done:
            raise Forbidden("the debrief opens when the crisis or the class session ends")
        from crisislab.play.debrief import to_json

        return to_json(classroom.debrief(row, p.world))

    @app.get("/api/class", tags=["facilitator"])
    def api_class(token: FacToken) -> dict[str, Any]:
        """Every world: each seat's screen, its team, letters, the true state, injects."""
        return views.class_view(classroom, classroom.facilitated(token))

    @app.post("/api/class/advance", tags=["facilitator"])
    def api_advance(token: FacToken, body: Advance | None = None) -> dict[str, str]:
        """Play the current turn of every world (or one) now."""
        classroom.advance(token, body.world if body else None)
        return {"status": "advanced"}

    @app.post("/api/class/pause", tags=["facilitator"])
    def api_pause(token: FacToken) -> dict[str, str]:
        """Stop the clocks; players cannot act until resumed."""
        classroom.pause(token)
        return {"status": "paused"}

    @app.post("/api/class/resume", tags=["facilitator"])
    def api_resume(token: FacToken) -> dict[str, str]:
        """Start the clocks again with the time each turn had left."""
        classroom.resume(token)
        return {"status": "running"}

    @app.post("/api/class/extend", tags=["facilitator"])
    def api_extend(body: Extend, token: FacToken) -> dict[str, str]:
        """Give every world's current turn more seconds."""
        classroom.extend(token, body.seconds)
        return {"status": "extended"}

    @app.post("/api/class/inject", tags=["facilitator"], status_code=201)
    def api_inject(body: Inject, token: FacToken) -> dict[str, int]:
        """A message from an offstage actor (the UN, the allies, the press)."""
        return {"worlds": classroom.inject(token, body.sender, body.text, body.world, body.to)}

    @app.post("/api/class/inject-event", tags=["facilitator"], status_code=201)
    def api_inject_event(body: InjectEvent, token: FacToken) -> dict[str, Any]:
        """Make one of the scenario's injectable events happen on the next turn, as if
        chance had fired it: it changes the crisis, and each seat learns of it only as
        it would of the real event. The answer names the worlds it will happen in and
        why not in the others."""
        return classroom.inject_event(token, body.event, body.world)

    @app.post("/api/class/end", tags=["facilitator"])
    def api_end(token: FacToken) -> dict[str, str]:
        """End the class session; the debrief stays."""
        classroom.end(token)
        return {"status": "ended"}

    @app.get("/api/class/debrief", tags=["facilitator"])
    def api_debrief(token: FacToken) -> dict[str, Any]:
        """The class debrief: every world's outcome, terms, where it left the record, its
        key decisions and their effect on the odds; the essay questions first."""
        return views.class_debrief(classroom, classroom.facilitated(token))

    @app.get("/api/class/export.json", tags=["facilitator"])
    def api_export_json(token: FacToken) -> dict[str, Any]:
        """Every world's decisions and letters, for grading."""
        return views.export(classroom, classroom.facilitated(token))

    @app.get("/api/class/export.csv", tags=["facilitator"], response_class=PlainTextResponse)
    def api_export_csv(token: FacToken) -> PlainTextResponse:
        """The same as one CSV table."""
        return _csv(views.export_csv(classroom, classroom.facilitated(token)))

    # ---- pages ------------------------------------------------------------------------------

    SEAT = [Depends(page_seat)]
    FAC = [Depends(page_facilitator)]

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Any:
        return templates.TemplateResponse(request, name, context, status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Any:
        return page(
            request, "home.html", scenarios=scenario_choices(classroom), agents=AGENT_CHOICES
        )

    @app.post("/sessions", include_in_schema=False)
    def create_page(
        request: Request,
        scenario: Annotated[str, Form()] = "cuba-1962",
        worlds: Annotated[int, Form()] = 1,
        start: Annotated[str, Form()] = "",
        turn_seconds: Annotated[str, Form()] = "",
        debrief_runs: Annotated[int, Form()] = 500,
        seed: Annotated[int, Form()] = 0,
        upload: Annotated[UploadFile | None, File()] = None,
    ) -> Any:
        return create_from_form(
            request, scenario, worlds, start, turn_seconds, debrief_runs, seed, upload
        )

    def create_from_form(
        request: Request,
        scenario: str,
        worlds: int,
        start: str,
        turn_seconds: str,
        debrief_runs: int,
        seed: int,
        upload: UploadFile | None,
    ) -> Any:
        text = None
        name = scenario
        if upload is not None and upload.filename:
            name, text = viewer_routes.read_upload(upload)
        form = _form_fields(request)
        seats = {k.removeprefix("seat_"): v for k, v in form.items() if k.startswith("seat_") and v}
        seconds = turn_seconds.strip()
        if seconds and not seconds.isdigit():
            raise ClassError(
                "the turn timer is a whole number of seconds",
                "or leave it empty to advance by hand",
            )
        row, token = classroom.create(
            SessionSettings(
                scenario=name,
                scenario_text=text,
                worlds=worlds,
                seats=seats,
                start=start or None,
                turn_seconds=int(seconds) if seconds else None,
                seed=seed,
                debrief_runs=debrief_runs,
            )
        )
        return RedirectResponse(f"/facilitate/{token}", status_code=303)

    @app.get("/join", response_class=HTMLResponse, include_in_schema=False)
    def join_page(request: Request, code: str = "") -> Any:
        return page(request, "join.html", code=code[:16], **join_choices(code))

    def join_choices(code: str) -> dict[str, Any]:
        """The worlds and the seats people play, for a code that names a session."""
        try:
            row = classroom.by_code(code[:16]) if code.strip() else None
        except ClassError:
            row = None
        if row is None:
            return {"seats": [], "worlds": 0}
        sc = classroom.live(row).scenario
        return {
            "worlds": row.worlds,
            "seats": [
                {"id": a, "name": views.actor_name(sc, a)}
                for a, spec in row.seats.items()
                if spec == "human"
            ],
        }

    @app.post("/join", include_in_schema=False)
    def join_form(
        request: Request,
        code: Annotated[str, Form()],
        name: Annotated[str, Form()],
        world: Annotated[str, Form()] = "",
        seat: Annotated[str, Form()] = "",
    ) -> Any:
        try:
            p, token = classroom.join(
                code, name, int(world) if world.isdigit() else None, seat or None
            )
        except ClassError as e:
            return page(
                request,
                "join.html",
                status=e.status,
                code=code[:16],
                error=e.message,
                hint=e.hint,
                **join_choices(code),
            )
        return RedirectResponse(f"/play/{token}?ok=joined", status_code=303)

    def seat_view(row: ClassRow, p: PlayerRow) -> dict[str, Any]:
        """The seat's view, built once per revision of the session (and second of its
        timer: only the latest second is kept) and shared by the seat's page, its live
        part and the API."""
        left = classroom.seconds_left(row, p.world)
        second = None if left is None else int(round(left))
        pages = classroom.snapshot(row).pages
        kept = pages.get(("view", p.id))
        if kept is None or kept[0] != second:
            kept = pages[("view", p.id)] = (second, views.seat_view(classroom, row, p))
        return kept[1]  # type: ignore[no-any-return]

    live_part = templates.get_template("_seat_live.html")

    def seat_live(token: str) -> str:
        """The live part of a seat's page as HTML, rendered once per view."""
        row, p = classroom.player(token)
        v = seat_view(row, p)
        pages = classroom.snapshot(row).pages
        second = v["clock"]["seconds_left"]
        kept = pages.get(("live", p.id))
        if kept is None or kept[0] != second:
            kept = pages[("live", p.id)] = (second, live_part.render(v=v, token=token))
        return kept[1]  # type: ignore[no-any-return]

    def seat_page(
        request: Request, token: str, name: str, status: int = 200, error: str = "", hint: str = ""
    ) -> Any:
        row, p = classroom.player(token)
        v = seat_view(row, p)
        note = OK_NOTES.get(request.query_params.get("ok", ""), "")
        return page(
            request, name, status=status, v=v, token=token, note=note, error=error, hint=hint
        )

    @app.get(
        "/play/{token}", dependencies=SEAT, response_class=HTMLResponse, include_in_schema=False
    )
    def play_page(request: Request, token: str) -> Any:
        return seat_page(request, token, "play.html")

    @app.get(
        "/play/{token}/live",
        dependencies=SEAT,
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    async def play_live(token: str) -> Any:
        html = live_from_memory(token)
        if html is None:
            html = await run_in_threadpool(seat_live, token)
        return HTMLResponse(html)

    def live_from_memory(token: str) -> str | None:
        """The live part already rendered for the seat's view now, if it is in memory."""
        found = classroom.remembered(token)
        if found is None:
            return None
        row, p = found
        snap = classroom.snapshot(row)
        if snap.worlds is None:
            return None
        left = classroom.left(snap.worlds.get(p.world))
        kept = snap.pages.get(("live", p.id))
        if kept is None or kept[0] != (None if left is None else int(round(left))):
            return None
        return kept[1]  # type: ignore[no-any-return]

    @app.get("/play/{token}/revision", dependencies=SEAT, include_in_schema=False)
    async def play_revision(token: str) -> dict[str, int]:
        # answered on the event loop from memory when it can be (no thread, no database)
        answer = classroom.poll(token)
        return answer if answer is not None else await run_in_threadpool(api_seat_revision, token)

    def seat_action(request: Request, token: str, ok: str, fn: Callable[[], Any]) -> Any:
        try:
            fn()
        except Forbidden:
            raise
        except ClassError as e:
            return seat_page(
                request, token, "play.html", status=e.status, error=e.message, hint=e.hint
            )
        return RedirectResponse(f"/play/{token}?ok={ok}", status_code=303)

    @app.post("/play/{token}/choose", dependencies=SEAT, include_in_schema=False)
    def choose_form(request: Request, token: str, action: Annotated[str, Form()]) -> Any:
        return seat_action(request, token, "chosen", lambda: classroom.choose(token, action))

    @app.post("/play/{token}/vote", dependencies=SEAT, include_in_schema=False)
    def vote_form(request: Request, token: str, action: Annotated[str, Form()]) -> Any:
        return seat_action(request, token, "voted", lambda: classroom.vote(token, action))

    @app.post("/play/{token}/letter", dependencies=SEAT, include_in_schema=False)
    def letter_form(
        request: Request,
        token: str,
        to: Annotated[str, Form()],
        text: Annotated[str, Form()] = "",
        public: Annotated[str, Form()] = "",
        reply_to: Annotated[str, Form()] = "",
        stance: Annotated[str, Form()] = "",
        channel: Annotated[str, Form()] = "",
    ) -> Any:
        terms = _form_list(request, "terms")
        return seat_action(
            request,
            token,
            "letter",
            lambda: classroom.write(
                token,
                to,
                public == "yes",
                terms,
                text,
                int(reply_to) if reply_to.isdigit() else None,
                stance,
                channel or None,
            ),
        )

    def fac_page(
        request: Request, token: str, name: str, status: int = 200, error: str = ""
    ) -> Any:
        row = classroom.facilitated(token)
        v = views.class_view(classroom, row)
        base = str(request.base_url).rstrip("/")
        sc = classroom.live(row).scenario
        actors = [(a, views.actor_name(sc, a)) for a in sc.actors]
        return page(
            request,
            name,
            status=status,
            v=v,
            token=token,
            error=error,
            join_url=f"{base}/join?code={row.code}",
            offstage=OFFSTAGE,
            scenario_ref=viewer.ref_for_class(row),
            actors=actors,
            note=OK_NOTES.get(request.query_params.get("ok", ""), ""),
        )

    @app.get(
        "/facilitate/{token}",
        dependencies=FAC,
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def facilitate(request: Request, token: str) -> Any:
        return fac_page(request, token, "facilitate.html")

    @app.get(
        "/facilitate/{token}/live",
        dependencies=FAC,
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def facilitate_live(request: Request, token: str) -> Any:
        return fac_page(request, token, "_fac_live.html")

    @app.get("/facilitate/{token}/revision", dependencies=FAC, include_in_schema=False)
    def facilitate_revision(token: str) -> dict[str, int]:
        return {"revision": classroom.revision(classroom.facilitated(token)), "turn": -1}

    @app.get("/facilitate/{token}/qr.svg", dependencies=FAC, include_in_schema=False)
    def qr(request: Request, token: str) -> Any:
        import segno

        row = classroom.facilitated(token)
        url = f"{str(request.base_url).rstrip('/')}/join?code={row.code}"
        buf = _svg(segno.make(url, error="m"))
        from fastapi import Response

        return Response(buf, media_type="image/svg+xml")

    @app.post("/facilitate/{token}/{action}", dependencies=FAC, include_in_schema=False)
    def facilitate_action(
        request: Request,
        token: str,
        action: str,
        seconds: Annotated[str, Form()] = "",
        sender: Annotated[str, Form()] = "",
        text: Annotated[str, Form()] = "",
        world: Annotated[str, Form()] = "",
        to: Annotated[str, Form()] = "",
        event: Annotated[str, Form()] = "",
    ) -> Any:
        number = int(world) if world.isdigit() else None
        actions: dict[str, Callable[[], Any]] = {
            "pause": lambda: classroom.pause(token),
            "resume": lambda: classroom.resume(token),
            "advance": lambda: classroom.advance(token, number),
            "extend": lambda: classroom.extend(token, int(seconds) if seconds.isdigit() else 0),
            "inject": lambda: classroom.inject(token, sender, text, number, to or None),
            "inject-event": lambda: classroom.inject_event(token, event, number),
            "end": lambda: classroom.end(token),
        }
        if action not in actions:
            raise ClassError(f"'{action}' is not something a facilitator can do")
        classroom.facilitated(token)
        try:
            actions[action]()
        except Forbidden:
            raise
        except ClassError as e:
            return fac_page(request, token, "facilitate.html", status=e.status, error=e.message)
        if action == "end":
            return RedirectResponse(f"/facilitate/{token}/debrief", status_code=303)
        return RedirectResponse(f"/facilitate/{token}?ok=done", status_code=303)

    @app.get(
        "/facilitate/{token}/debrief",
        dependencies=FAC,
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def debrief_page(request: Request, token: str) -> Any:
        row = classroom.facilitated(token)
        return page(
            request,
            "debrief.html",
            d=views.class_debrief(classroom, row),
            token=token,
            scenario_ref=viewer.ref_for_class(row),
        )

    @app.get("/facilitate/{token}/export.csv", dependencies=FAC, include_in_schema=False)
    def export_csv_page(token: str) -> Any:
        return _csv(views.export_csv(classroom, classroom.facilitated(token)))

    @app.get("/facilitate/{token}/export.json", dependencies=FAC, include_in_schema=False)
    def export_json_page(token: str) -> Any:
        return api_export_json(token)

    return app


def _csv(text: str) -> PlainTextResponse:
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=class-export.csv"},
    )


def _svg(qr: Any) -> bytes:
    import io

    buf = io.BytesIO()
    qr.save(buf, kind="svg", scale=6, border=2, xmldecl=False)
    return buf.getvalue()


def _form_fields(request: Request) -> dict[str, str]:
    form = getattr(request, "_form", None)
    if form is None:
        return {}
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _form_list(request: Request, key: str) -> list[str]:
    form = getattr(request, "_form", None)
    return [v for v in form.getlist(key) if isinstance(v, str)] if form is not None else []


AGENT_CHOICES = ("human", "historical", "leader", "dove", "hawk", "rational", "random")


def scenario_choices(room: Classroom) -> list[dict[str, Any]]:
    from crisislab.scenario.loader import builtin_ids

    out = []
    for ref in builtin_ids():
        sc = room.scenario_of(SessionSettings(scenario=ref))
        out.append(
            {
                "id": sc.id,
                "title": sc.title,
                "seats": [
                    {"id": a, "name": views.actor_name(sc, a)}
                    for a in sc.players
                    if sc.role(a) == "player"
                ],
                "phases": [{"id": ph.id, "label": ph.label} for ph in sc.spec.clock.phases],
            }
        )
    return out
