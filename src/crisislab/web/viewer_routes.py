"""The replay viewer's and the explorer's pages and JSON API (added to the classroom app).

Pages: ``/replay`` (choose or upload a scenario), ``/replay/REF/DATE`` (one day of the
record, a link to share), ``/explore`` (the form) and ``/explore/run?...`` (a run and its
charts; the address is the request, so it can be shared too). The API under
``/api/replay``, ``/api/scenarios/upload`` and ``/api/explore`` returns the same data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from crisislab.web import charts
from crisislab.web.classroom import ClassError, Classroom
from crisislab.web.viewer import (
    RUNS_BOUNDS,
    RUNS_DEFAULT,
    Books,
    Explorer,
    Job,
    Scenarios,
    exploration,
    explorer_options,
    result_view,
)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def read_upload(upload: UploadFile) -> tuple[str, str]:
    """An uploaded scenario file's name (its last part, at most 200 characters) and text;
    a file over 2 MB or not UTF-8 is refused in words."""
    raw = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ClassError("the scenario file is larger than 2 MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ClassError(
            "the scenario file is not UTF-8 text", "save it as UTF-8 and upload it again"
        ) from None
    return Path(upload.filename or "scenario.yaml").name[:200], text


class UploadIn(BaseModel):
    name: str = Field("scenario.yaml", description="The file's name, shown in messages.")
    yaml: str = Field(
        ...,
        description="The scenario file's text (YAML); validated as "
        "`crisislab validate` does, never executed.",
    )


class ExploreIn(BaseModel):
    scenario: str = Field(
        "cuba-1962", description="A built-in scenario id, or the reference an upload returned."
    )
    what_ifs: list[str] = Field(
        default_factory=list,
        description="What-if ids (see /api/explore/options); each is a column beside the baseline.",
    )
    lineup: dict[str, str] = Field(
        default_factory=dict,
        description="Seat -> agent (see /api/explore/options); the seats changed make one column.",
    )
    runs: int = Field(
        RUNS_DEFAULT,
        description=f"Simulated crises per column ({RUNS_BOUNDS[0]:,} to {RUNS_BOUNDS[1]:,}).",
    )
    seed: int = Field(0, description="The seed, shared by every column.")


def register(
    app: FastAPI,
    templates: Jinja2Templates,
    room: Classroom,
    runs_bounds: tuple[int, int] = RUNS_BOUNDS,
    explorer: Explorer | None = None,
) -> tuple[Scenarios, Explorer]:
    """Add the viewer's routes to ``app``; returns its scenarios and explorer."""
    scenarios = Scenarios(room)
    books = Books()
    explore = explorer or Explorer()
    app.state.viewer = scenarios
    app.state.explorer = explore

    def page(request: Request, name: str, status: int = 200, **context: Any) -> Any:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def book(ref: str) -> Any:
        return books.of(ref, scenarios.resolve(ref))

    def job_state(job: Job) -> dict[str, Any]:
        state = job.state()
        if state["result"] is not None:
            state["names"] = result_view(job.scenario, state["result"])["columns"]
        return state

    # ---- JSON API ------------------------------------------------------------------------

    @app.post("/api/scenarios/upload", tags=["replay and explorer"], status_code=201)
    def api_upload(body: UploadIn) -> dict[str, Any]:
        """Check a scenario file and keep it for the replay viewer and the explorer; the
        answer's ``ref`` names it in their addresses (until the server restarts)."""
        ref, sc = scenarios.upload(Path(body.name).name[:200], body.yaml)
        return {
            "ref": ref,
            "title": sc.title,
            "replay_url": f"/replay/{ref}",
            "explore_url": f"/explore?scenario={ref}",
        }

    @app.get("/api/replay/{ref}", tags=["replay and explorer"])
    def api_replay(ref: str) -> dict[str, Any]:
        """The days of a scenario's historical replay, each with its link."""
        return book(ref).contents()

    @app.get("/api/replay/{ref}/{day}", tags=["replay and explorer"])
    def api_replay_day(ref: str, day: str) -> dict[str, Any]:
        """One day of the record: by time of day, what each leader did and what
        happened (the text `crisislab replay` prints) with every citation."""
        b = book(ref)
        return b.day_view(b.on_or_after(day) if day not in {d["date"] for d in b.days} else day)

    @app.get("/api/explore/options", tags=["replay and explorer"])
    def api_explore_options(scenario: str = "cuba-1962") -> dict[str, Any]:
        """The what-ifs, seats and agents the explorer offers for a scenario."""
        options = explorer_options(scenarios.resolve(scenario), scenario)
        options["runs"] = {"default": RUNS_DEFAULT, "min": runs_bounds[0], "max": runs_bounds[1]}
        return options

    @app.post("/api/explore", tags=["replay and explorer"], status_code=202)
    def api_explore(body: ExploreIn) -> Any:
        """Start a run (or find the same one): what-ifs and a line-up beside the
        baseline, as `crisislab compare` runs them. Poll `GET /api/explore/{job}` until
        its status is `done`; the result is `crisislab compare --format json`'s."""
        sc = scenarios.resolve(body.scenario)
        ex = exploration(
            sc, body.scenario, body.what_ifs, body.lineup, body.runs, body.seed, runs_bounds
        )
        state = job_state(explore.submit(sc, ex))
        return JSONResponse(state, status_code=200 if state["status"] == "done" else 202)

    @app.get("/api/explore/{job}", tags=["replay and explorer"])
    def api_explore_job(job: str) -> dict[str, Any]:
        """A run's progress, and its result once done."""
        return job_state(explore.get(job))

    # ---- pages ---------------------------------------------------------------------------

    def choices() -> list[dict[str, str]]:
        out = []
        for ref in scenarios.builtin():
            sc = scenarios.resolve(ref)
            out.append({"ref": ref, "title": sc.title})
        return out

    @app.get("/replay", response_class=HTMLResponse, include_in_schema=False)
    def replay_index(request: Request) -> Any:
        return page(request, "replay_index.html", scenarios=choices())

    @app.post("/replay/upload", include_in_schema=False)
    def replay_upload(
        upload: Annotated[UploadFile | None, File()] = None, then: str = "replay"
    ) -> Any:
        if upload is None or not upload.filename:
            raise ClassError("no file was chosen", "choose a scenario file (YAML) to upload")
        name, text = read_upload(upload)
        ref, _ = scenarios.upload(name, text)
        target = f"/explore?scenario={ref}" if then == "explore" else f"/replay/{ref}"
        return RedirectResponse(target, status_code=303)

    @app.get("/replay/{ref}", include_in_schema=False)
    def replay_start(ref: str, day: str = "") -> Any:
        b = book(ref)
        first = b.on_or_after(day) if day.strip() else b.days[0]["date"]
        return RedirectResponse(f"/replay/{ref}/{first}", status_code=303)

    @app.get("/replay/{ref}/{day}", response_class=HTMLResponse, include_in_schema=False)
    def replay_day(request: Request, ref: str, day: str) -> Any:
        b = book(ref)
        if day not in {d["date"] for d in b.days}:
            return RedirectResponse(f"/replay/{ref}/{b.on_or_after(day)}", status_code=303)
        v = b.day_view(day)
        return page(
            request,
            "replay.html",
            v=v,
            days=b.contents()["days"],
            share=str(request.base_url).rstrip("/") + v["link"],
        )

    @app.get("/explore", response_class=HTMLResponse, include_in_schema=False)
    def explore_form(request: Request, scenario: str = "cuba-1962") -> Any:
        options = explorer_options(scenarios.resolve(scenario), scenario)
        return page(
            request,
            "explore.html",
            o=options,
            scenarios=choices(),
            bounds=runs_bounds,
            chosen=_chosen(request),
            state=None,
        )

    @app.get("/explore/run", response_class=HTMLResponse, include_in_schema=False)
    def explore_run(
        request: Request, scenario: str = "cuba-1962", runs: str = "", seed: str = "0"
    ) -> Any:
        sc = scenarios.resolve(scenario)
        options = explorer_options(sc, scenario)
        chosen = _chosen(request)
        try:
            ex = exploration(
                sc,
                scenario,
                chosen["what_ifs"],
                chosen["lineup"],
                _whole(runs or str(RUNS_DEFAULT), "the number of crises"),
                _whole(seed or "0", "the seed"),
                runs_bounds,
            )
        except ClassError as e:
            return page(
                request,
                "explore.html",
                status=e.status,
                o=options,
                scenarios=choices(),
                bounds=runs_bounds,
                chosen=chosen,
                state=None,
                error=e.message,
                hint=e.hint,
            )
        state = job_state(explore.submit(sc, ex))
        view = odds = war = None
        if state["result"] is not None:
            view = result_view(sc, state["result"])
            odds = charts.odds_chart(state["result"], view["columns"])
            war = charts.war_chart(state["result"], view["columns"])
        return page(
            request,
            "explore.html",
            o=options,
            scenarios=choices(),
            bounds=runs_bounds,
            chosen=chosen,
            state=state,
            view=view,
            odds_svg=odds,
            war_svg=war,
            refresh=state["status"] in ("waiting", "running"),
        )

    return scenarios, explore


def _chosen(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "what_ifs": [w for w in q.getlist("what_if") if w],
        "lineup": {k.removeprefix("seat_"): v for k, v in q.items() if k.startswith("seat_") and v},
        "runs": q.get("runs", str(RUNS_DEFAULT)),
        "seed": q.get("seed", "0"),
    }


def _whole(text: str, what: str) -> int:
    text = text.strip().replace(",", "")
    if not text.isdigit():
        raise ClassError(f"{what} must be a whole number, not '{text[:20]}'")
    return int(text)
