"""The replay viewer and the explorer, as plain data for the pages and the JSON API.

The replay viewer tells the historical crisis of a scenario day by day with its sources:
it is :func:`crisislab.replay.replay` told by :func:`crisislab.render.chronicle`, the
text ``crisislab replay`` prints, cut into days. The explorer runs
:func:`crisislab.analysis.compare.compare` (what ``crisislab compare`` runs) in a worker
thread, one run at a time, and keeps its results by what was asked, so the same request
gives the same numbers at once. Nothing here simulates or replays by itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shlex
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import select

from crisislab.scenario.display import actor_name
from crisislab.scenario.model import Scenario
from crisislab.web.classroom import ClassError, Classroom, NotFound, SessionSettings
from crisislab.web.models import ClassRow

UPLOAD_PREFIX = "u-"  # an uploaded scenario's reference: u- and its content hash's start
MAX_UPLOADS = 64
MAX_JOBS = 32  # finished explorer runs kept
MAX_WAITING = 4  # explorer runs queued behind the one running
RUNS_DEFAULT = 2_000
RUNS_BOUNDS = (1_000, 20_000)
MAX_COLUMNS = 4  # what-ifs and the line-up beside the baseline

# the agents the explorer offers per seat, in the words a reader sees
AGENT_WORDS: dict[str, str] = {
    "historical": "the record (as it happened, the fitted model off it)",
    "leader": "the fitted leader model",
    "leader:preset=hawk": "the leader model, set as a hawk",
    "leader:preset=dove": "the leader model, set as a dove",
    "hawk": "a hawk: climbs the ladder",
    "dove": "a dove: seeks the way down",
    "rational": "a unitary rational actor",
    "organizational": "organisational routine",
    "political": "governmental politics",
    "random": "random choices",
}


# ---- scenarios by reference ------------------------------------------------------------------


class Scenarios:
    """Scenarios by the reference in a page's address: a built-in id, or ``u-`` and the
    start of an uploaded scenario's content hash (kept in memory, and found again after
    a restart when a class session was created from it)."""

    def __init__(self, room: Classroom) -> None:
        self.room = room
        self.uploads: OrderedDict[str, Scenario] = OrderedDict()
        self.lock = threading.Lock()

    @staticmethod
    def builtin() -> list[str]:
        from crisislab.scenario.loader import builtin_ids

        return list(builtin_ids())

    def resolve(self, ref: str) -> Scenario:
        ref = ref.strip()
        if ref.startswith(UPLOAD_PREFIX):
            with self.lock:
                if ref in self.uploads:
                    return self.uploads[ref]
            sc = self._from_class(ref)
            if sc is None:
                raise NotFound(
                    "this uploaded scenario is no longer on the server",
                    "upload the file again on the replay page",
                )
            return self._keep(ref, sc)
        if ref not in self.builtin():
            raise NotFound(
                f"there is no scenario '{ref[:80]}'",
                f"use one of: {', '.join(self.builtin())}, or upload a file",
            )
        return self.room.scenario_of(SessionSettings(scenario=ref))

    def upload(self, name: str, text: str) -> tuple[str, Scenario]:
        """Validate an uploaded scenario (the loader's checks; nothing is executed)."""
        sc = self.room.scenario_of(
            SessionSettings(scenario=name or "upload.yaml", scenario_text=text)
        )
        ref = self.ref_of(sc, uploaded=True)
        return ref, self._keep(ref, sc)

    @staticmethod
    def ref_of(sc: Scenario, uploaded: bool) -> str:
        return UPLOAD_PREFIX + sc.content_hash[:16] if uploaded else sc.id

    def ref_for_class(self, row: ClassRow) -> str:
        """The reference of a class session's scenario (kept, if it was uploaded)."""
        if row.scenario_text is None:
            return row.scenario
        sc = self.room.live(row).scenario
        ref = self.ref_of(sc, uploaded=True)
        self._keep(ref, sc)
        return ref

    def _keep(self, ref: str, sc: Scenario) -> Scenario:
        with self.lock:
            self.uploads[ref] = sc
            self.uploads.move_to_end(ref)
            while len(self.uploads) > MAX_UPLOADS:
                self.uploads.popitem(last=False)
        return sc

    def _from_class(self, ref: str) -> Scenario | None:
        start = ref.removeprefix(UPLOAD_PREFIX)
        if not start.isalnum():
            return None
        with self.room.store.session() as s:
            row = s.scalars(
                select(ClassRow)
                .where(ClassRow.content_hash.startswith(start), ClassRow.scenario_text.is_not(None))
                .limit(1)
            ).first()
        if row is None:
            return None
        return self.room.scenario_of(
            SessionSettings(scenario=row.scenario, scenario_text=row.scenario_text)
        )


# ---- the replay viewer -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayBook:
    """A scenario's historical replay cut into days, each day's rows in plain words."""

    ref: str
    title: str
    outcome: str
    closing: str | None
    days: tuple[dict[str, Any], ...]  # in order: date, heading, section, times

    def index(self, day: str) -> int:
        for i, d in enumerate(self.days):
            if d["date"] == day:
                return i
        raise NotFound(
            f"the record of this crisis has no entry for '{day[:40]}'",
            f"pick a day from the list, or give a date like {self.days[0]['date']}",
        )

    def on_or_after(self, when: str) -> str:
        """The first day told on or after a date (the last day if none is)."""
        try:
            wanted = dt.date.fromisoformat(when.strip())
        except ValueError:
            raise ClassError(
                f"'{when[:40]}' is not a date",
                f"give it as YYYY-MM-DD, e.g. {self.days[0]['date']}",
            ) from None
        for d in self.days:
            if dt.date.fromisoformat(d["date"]) >= wanted:
                return str(d["date"])
        return str(self.days[-1]["date"])

    def day_view(self, day: str) -> dict[str, Any]:
        i = self.index(day)
        d = self.days[i]

        def near(j: int) -> dict[str, str] | None:
            if not 0 <= j < len(self.days):
                return None
            return {
                "date": self.days[j]["date"],
                "heading": self.days[j]["heading"],
                "link": link(self.ref, self.days[j]["date"]),
            }

        return {
            "scenario": self.ref,
            "title": self.title,
            **d,
            "link": link(self.ref, d["date"]),
            "number": i + 1,
            "count": len(self.days),
            "previous": near(i - 1),
            "next": near(i + 1),
            "closing": self.closing if i == len(self.days) - 1 else None,
        }

    def contents(self) -> dict[str, Any]:
        return {
            "scenario": self.ref,
            "title": self.title,
            "outcome": self.outcome,
            "days": [
                {
                    "date": d["date"],
                    "heading": d["heading"],
                    "section": d["section"],
                    "link": link(self.ref, d["date"]),
                }
                for d in self.days
            ],
        }


def link(ref: str, day: str) -> str:
    return f"/replay/{ref}/{day}"


def replay_book(ref: str, sc: Scenario) -> ReplayBook:
    """The replay ``crisislab replay`` prints, as days of plain rows with their sources."""
    from crisislab.render import chronicle
    from crisislab.replay import replay

    told = replay(sc)
    ch = chronicle(told)
    titles = {s.id: s.title for s in told.sources}
    days: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for section in ch.sections:
        for day in section.days:
            entry = days.setdefault(
                day.date,
                {"date": day.date, "heading": day.heading, "section": section.title, "times": []},
            )
            for time, rows in groupby(day.rows, key=lambda r: r.time):
                when = f"{day.heading}, {time}" if time else day.heading
                items = [
                    {
                        "who": r.who,
                        "what": r.what,
                        "changes": list(r.changes),
                        "outcome": r.emphasis,
                        "sources": _cited(r.sources, titles),
                    }
                    for r in rows
                ]
                if entry["times"] and entry["times"][-1]["when"] == when:
                    entry["times"][-1]["rows"].extend(items)
                else:
                    entry["times"].append({"when": when, "rows": items})
    if not days:
        raise ClassError(
            f"the record of {sc.title} tells nothing to replay",
            "add a history to the scenario (see docs/scenario-format.md)",
        )
    return ReplayBook(ref, told.title, told.outcome_label, ch.closing, tuple(days.values()))


def _cited(refs: Any, titles: dict[str, str]) -> list[dict[str, Any]]:
    """A row's citations, one per document cited in a row (as the terminal names a
    document once for consecutive places in it), each place with its anchor phrase."""
    out: list[dict[str, Any]] = []
    previous = None
    for s in refs:
        place = {"locator": s.locator, "anchor": s.anchor}
        if out and previous == s.source:
            out[-1]["places"].append(place)
            continue
        previous = s.source
        out.append(
            {"title": titles.get(s.source, s.name), "name": s.name, "url": s.url, "places": [place]}
        )
    return out


class Books:
    """Replays kept per scenario (a replay takes a fraction of a second, its days none)."""

    def __init__(self) -> None:
        self.books: OrderedDict[tuple[str, str], ReplayBook] = OrderedDict()
        self.lock = threading.Lock()

    def of(self, ref: str, sc: Scenario) -> ReplayBook:
        key = (ref, sc.content_hash)
        with self.lock:
            if key in self.books:
                return self.books[key]
        book = replay_book(ref, sc)
        with self.lock:
            self.books[key] = book
            while len(self.books) > 16:
                self.books.popitem(last=False)
        return book


# ---- the explorer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Exploration:
    """What the explorer is asked: the columns beside the baseline, crises and seed."""

    scenario: str  # the reference
    what_ifs: tuple[str, ...] = ()  # one column each
    lineup: tuple[tuple[str, str], ...] = ()  # one column: (seat, agent) for seats changed
    runs: int = RUNS_DEFAULT
    seed: int = 0

    def key(self, content_hash: str) -> str:
        text = json.dumps([content_hash, self.what_ifs, self.lineup, self.runs, self.seed])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]

    def command(self, sc: Scenario) -> str:
        """The ``crisislab compare`` command that gives the same numbers."""
        parts = [
            "crisislab",
            "compare",
            self.scenario if not self.scenario.startswith(UPLOAD_PREFIX) else "FILE.yaml",
        ]
        for w in self.what_ifs:
            parts += ["-w", w]
        if self.lineup:
            parts += ["-l", ";".join(f"{a}={s}" for a, s in self.lineup)]
        parts += ["-n", str(self.runs), "--seed", str(self.seed)]
        return shlex.join(parts)


def what_if_words(summary: str) -> str:
    """A what-if's short name: its summary up to the first semicolon or full stop."""
    text = " ".join(summary.split())
    for mark in (";", ". "):
        text = text.split(mark)[0]
    return text.rstrip(".")


def exploration(
    sc: Scenario,
    ref: str,
    what_ifs: list[str],
    lineup: dict[str, str],
    runs: int,
    seed: int,
    bounds: tuple[int, int] = RUNS_BOUNDS,
) -> Exploration:
    """A request checked: known what-ifs, seats and agents, runs and seed in range."""
    from crisislab.analysis.simulate import AnalysisError, check_what_ifs

    low, high = bounds
    if not low <= runs <= high:
        raise ClassError(
            f"the number of crises must be {low:,} to {high:,}, not {runs:,}",
            f"e.g. {RUNS_DEFAULT:,}",
        )
    if not 0 <= seed <= 2**63 - 1:
        raise ClassError(f"the seed must be a whole number from 0 to 2**63 - 1, not {seed}")
    wanted = [w.strip() for w in what_ifs if w.strip()]
    if len(set(wanted)) != len(wanted):
        raise ClassError("a what-if is chosen twice", "choose each once")
    try:
        checked = check_what_ifs(sc, wanted)
    except AnalysisError as e:
        names = ", ".join(w.id for w in _what_ifs(sc)) or "none"
        raise ClassError(str(e).split(";")[0], f"the what-ifs of {sc.title}: {names}") from None
    seats = []
    for actor, spec in lineup.items():
        spec = spec.strip()
        if actor not in sc.players or sc.role(actor) != "player":
            raise ClassError(
                f"'{actor[:40]}' is not a seat of {sc.title}",
                "the seats are: " + ", ".join(f"{actor_name(sc, a)} ({a})" for a in seats_of(sc)),
            )
        if spec not in AGENT_WORDS:
            raise ClassError(
                f"the explorer has no agent '{spec[:40]}'",
                "choose one of: " + ", ".join(AGENT_WORDS),
            )
        if spec != "historical":
            seats.append((actor, spec))
    if not checked and not seats:
        raise ClassError(
            "there is nothing to set beside the baseline",
            "choose a what-if, or an agent other than the record for a seat",
        )
    columns = len(checked) + (1 if seats else 0)
    if columns > MAX_COLUMNS:
        raise ClassError(
            f"at most {MAX_COLUMNS} columns beside the baseline, not {columns}",
            "choose fewer what-ifs",
        )
    order = {a: i for i, a in enumerate(sc.players)}
    seats.sort(key=lambda x: order[x[0]])
    return Exploration(ref, tuple(checked), tuple(seats), runs, seed)


def seats_of(sc: Scenario) -> list[str]:
    return [a for a in sc.players if sc.role(a) == "player"]


def _what_ifs(sc: Scenario) -> list[Any]:
    from crisislab.whatifs import list_what_ifs

    try:
        return list_what_ifs(sc)
    except Exception:  # noqa: BLE001 - a broken what-if file only means none to offer
        return []


def explorer_options(sc: Scenario, ref: str) -> dict[str, Any]:
    """What the explorer's form offers for a scenario."""
    return {
        "scenario": ref,
        "title": sc.title,
        "what_ifs": [
            {"id": w.id, "name": what_if_words(w.summary), "summary": w.summary}
            for w in _what_ifs(sc)
        ],
        "seats": [{"id": a, "name": actor_name(sc, a)} for a in seats_of(sc)],
        "agents": [{"id": k, "name": v} for k, v in AGENT_WORDS.items()],
        "runs": {"default": RUNS_DEFAULT},
    }


def variants_of(sc: Scenario, ex: Exploration) -> list[Any]:
    """The columns, built exactly as ``crisislab compare`` builds them."""
    from crisislab.analysis.simulate import Variant, seat_specs

    base = Variant("baseline", seat_specs(sc, []))
    out = [base]
    for w in ex.what_ifs:
        out.append(Variant(w, seat_specs(sc, []), (w,), ()))
    if ex.lineup:
        given = [f"{a}={s}" for a, s in ex.lineup]
        out.append(Variant(" ".join(given), seat_specs(sc, given), (), ()))
    return out


@dataclass
class Job:
    key: str
    request: Exploration
    scenario: Scenario
    status: str = "waiting"  # running, done, failed
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "job": self.key,
                "status": self.status,
                "done": self.done,
                "total": self.total,
                "error": self.error or None,
                "command": self.request.command(self.scenario),
                "request": {
                    "scenario": self.request.scenario,
                    "what_ifs": list(self.request.what_ifs),
                    "lineup": dict(self.request.lineup),
                    "runs": self.request.runs,
                    "seed": self.request.seed,
                },
                "result": self.result,
            }


Runner = Callable[..., Any]


class Explorer:
    """Explorer runs on one worker thread, one at a time; results kept by request."""

    def __init__(self, runner: Runner | None = None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explorer")
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.runner = runner

    def submit(self, sc: Scenario, ex: Exploration) -> Job:
        key = ex.key(sc.content_hash)
        with self.lock:
            job = self.jobs.get(key)
            if job is not None and job.status != "failed":
                self.jobs.move_to_end(key)
                return job
            waiting = sum(1 for j in self.jobs.values() if j.status in ("waiting", "running"))
            if waiting > MAX_WAITING:
                raise ClassError("the explorer is busy with other runs", "try again in a minute")
            columns = 1 + len(ex.what_ifs) + (1 if ex.lineup else 0)
            job = Job(key, ex, sc, total=ex.runs * columns)
            self.jobs[key] = job
            finished = [k for k, j in self.jobs.items() if j.status in ("done", "failed")]
            for k in finished[: max(0, len(self.jobs) - MAX_JOBS)]:
                del self.jobs[k]
        self.pool.submit(self._run, job)
        return job

    def get(self, key: str) -> Job:
        with self.lock:
            job = self.jobs.get(key)
        if job is None:
            raise NotFound(
                "this run is no longer on the server",
                "run it again from the explorer (the same request gives the same numbers)",
            )
        return job

    def _run(self, job: Job) -> None:
        from crisislab.agents.registry import AgentSpecError
        from crisislab.analysis.compare import compare
        from crisislab.analysis.simulate import AnalysisError

        def progress(done: int, total: int) -> None:
            with job.lock:
                job.done, job.total = done, total

        with job.lock:
            job.status = "running"
        try:
            sc = job.scenario
            variants = variants_of(sc, job.request)
            run = self.runner or compare
            comp = run(
                sc, variants, job.request.runs, job.request.seed, "local", 1, progress=progress
            )
            result = comp.to_json()
        except (AnalysisError, AgentSpecError, ValueError) as e:
            with job.lock:
                job.status, job.error = "failed", f"the run could not be made: {e}"
            return
        except Exception as e:  # noqa: BLE001 - a run's failure is shown, not raised
            with job.lock:
                job.status = "failed"
                job.error = f"the run failed ({type(e).__name__}: {str(e)[:200]})"
            return
        with job.lock:
            job.result, job.status, job.done = result, "done", job.total

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


# ---- the explorer's results in words --------------------------------------------------------


def percent(p: float) -> str:
    """``0.046`` -> ``4.6%``; three significant digits, never an exponent."""
    v = 100 * p
    if v == 0:
        return "0%"
    if abs(v) >= 1:
        return f"{v:.3g}%" if abs(v) < 99.95 else f"{v:.4g}%"
    text = f"{v:.3f}".rstrip("0").rstrip(".")
    return ("0" if text in ("", "-0") else text) + "%"


def points(d: float) -> str:
    text = percent(abs(d)).removesuffix("%")
    if text == "0":
        return "0"
    return ("+" if d > 0 else "−") + text


def column_names(sc: Scenario, result: dict[str, Any]) -> list[str]:
    """Each column in words: the baseline, a what-if's short name, a line-up's agents."""
    words = {w.id: what_if_words(w.summary) for w in _what_ifs(sc)}
    out = []
    for i, col in enumerate(result["columns"]):
        if i == 0:
            out.append("Baseline: every seat as on the record")
        elif col["what_ifs"]:
            out.append("What if: " + " and ".join(words.get(w, w) for w in col["what_ifs"]))
        else:
            changed = [
                f"{actor_name(sc, a)} played by {AGENT_WORDS.get(s, s)}"
                for a, s in col["agents"].items()
                if s not in ("historical", "scripted")
            ]
            out.append("; ".join(changed))
    return out


def result_view(sc: Scenario, result: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a run as a reader sees them: each outcome's odds per column with
    its 95% interval, and each difference from the baseline in percentage points."""
    names = column_names(sc, result)
    columns = result["columns"]
    diffs = result["differences"]
    rows = []
    for oid, o in columns[0]["outcomes"].items():
        cells = []
        for i, col in enumerate(columns):
            x = col["outcomes"][oid]
            cell = {
                "odds": f"{percent(x['p'])} ({percent(x['low'])} to {percent(x['high'])})",
                "difference": None,
                "excludes_zero": False,
            }
            if i:
                d = diffs[col["label"]].get(oid)
                if d is not None:
                    cell["difference"] = (
                        f"{points(d['d'])} points ({points(d['low'])} to {points(d['high'])})"
                    )
                    cell["excludes_zero"] = d["low"] > 0 or d["high"] < 0
            cells.append(cell)
        rows.append({"outcome": o["label"], "cells": cells})
    war = [
        f"{percent(c['war']['p'])} ({percent(c['war']['low'])} to {percent(c['war']['high'])})"
        for c in columns
    ]
    return {
        "columns": names,
        "rows": rows,
        "war": war,
        "runs": result["runs"],
        "seed": result["seed"],
    }
