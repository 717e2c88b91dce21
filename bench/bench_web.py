"""Load on the classroom web app (prints; never run by the tests).

    python bench/bench_web.py                       # 10 sessions x 30 players, 3 turns
    python bench/bench_web.py --sessions 2 --turns 1
    python bench/bench_web.py --pace 30             # a class's pace: choices over 30 s a turn

Starts ``crisislab serve`` on loopback with a fresh SQLite database, creates the class
sessions through the API (10 worlds of three human seats each: 30 deciders a session),
then, turn after turn, every player submits a choice while every player's page polls
for updates as ``static/live.js`` does (the revision, then the live part of the page).
Prints p50/p95/p99 of a choice (also of the first turn's and of the later ones') and of an
update (revision poll + page fragment). The run
is bounded: a fixed count of requests, and it stops after --max-seconds.

By default every request of a turn is sent at once (a burst: the worst case). With
``--pace SECONDS`` the players choose as a class does, each at a random moment of a
turn that lasts that long, while every page polls its revision every two seconds and
fetches its live part only when the revision changed, as ``static/live.js`` does.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

SRC = Path(__file__).resolve().parent.parent / "src"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000


def report(label: str, values: list[float]) -> None:
    print(
        f"{label:34s} n={len(values):5d}  p50 {pct(values, 50):7.1f} ms  "
        f"p95 {pct(values, 95):7.1f} ms  p99 {pct(values, 99):7.1f} ms  "
        f"mean {statistics.fmean(values) * 1000:7.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--worlds", type=int, default=10, help="worlds a session (3 seats each)")
    ap.add_argument("--turns", type=int, default=3)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--max-seconds", type=float, default=300)
    ap.add_argument(
        "--pace",
        type=float,
        default=0.0,
        help="seconds a turn lasts, choices spread over it (0: every request at once)",
    )
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument(
        "--url",
        default=None,
        help="measure a server already running there (on a fresh database) instead of starting one",
    )
    args = ap.parse_args()
    if args.url:
        run(args.url.rstrip("/"), args)
        return
    folder = Path(tempfile.mkdtemp(prefix="crisislab-bench-"))
    url = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crisislab.cli",
            "serve",
            "--port",
            str(args.port),
            "--db",
            f"sqlite:///{folder / 'bench.db'}",
        ],
        env=env,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/api/scenarios", timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        run(url, args)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def post(client: httpx.Client, path: str, body: dict) -> dict:  # type: ignore[type-arg]
    """Set-up calls come from one address without a token, so they share one rate limit:
    wait when told to, as a client should."""
    while True:
        r = client.post(path, json=body)
        if r.status_code != 429:
            assert r.status_code < 300, r.text
            return r.json()  # type: ignore[no-any-return]
        time.sleep(float(r.headers.get("retry-after", "1")))


def run(url: str, args: argparse.Namespace) -> None:
    with httpx.Client(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=args.threads)
    ) as client:
        measure(client, args)


def measure(client: httpx.Client, args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    players: list[str] = []
    print("setting up (not measured)...", flush=True)
    for _ in range(args.sessions):
        s = post(
            client,
            "/api/sessions",
            {
                "worlds": args.worlds,
                "start": "crisis",
                "debrief_runs": 0,
                "seats": {"usa": "human", "ussr": "human", "cuba": "human"},
            },
        )
        for w in range(1, args.worlds + 1):
            for seat in ("usa", "ussr", "cuba"):
                r = post(
                    client,
                    "/api/join",
                    {"code": s["code"], "name": f"{seat}{w}", "world": w, "seat": seat},
                )
                players.append(r["token"])
    # warm-up, not measured: the first "follow" of a process replays the record once
    warm = post(
        client,
        "/api/sessions",
        {"worlds": 1, "start": "crisis", "debrief_runs": 0, "seats": {"usa": "human"}},
    )
    joined = post(client, "/api/join", {"code": warm["code"], "name": "warm-up"})
    client.post(
        "/api/seat/choice",
        json={"action": "follow"},
        headers={"Authorization": f"Bearer {joined['token']}"},
    )
    print(
        f"{args.sessions} sessions, {len(players)} players: set up in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    choices: list[float] = []
    updates: list[float] = []
    polls: list[float] = []

    def choose(token: str) -> None:
        t = time.perf_counter()
        r = client.post(
            "/api/seat/choice",
            json={"action": "follow"},
            headers={"Authorization": f"Bearer {token}"},
        )
        choices.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text

    def update(token: str) -> None:
        t = time.perf_counter()
        client.get(f"/play/{token}/revision")
        polls.append(time.perf_counter() - t)
        r = client.get(f"/play/{token}/live")
        updates.append(time.perf_counter() - t)
        assert r.status_code == 200

    if args.pace > 0:
        paced(client, args, players, choose)
        return
    start = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        for turn in range(args.turns):
            if time.perf_counter() - start > args.max_seconds:
                print(f"stopped after {turn} turns (--max-seconds)")
                break
            jobs = [pool.submit(choose, p) for p in players]
            jobs += [pool.submit(update, p) for p in players]
            for j in jobs:
                j.result()
    elapsed = time.perf_counter() - start
    print(
        f"{args.turns} turns in {elapsed:.1f} s "
        f"({(len(choices) + len(updates) * 2) / elapsed:.0f} requests/s)"
    )
    report("choice (POST /api/seat/choice)", choices)
    if len(choices) > len(players):  # the turns run one after another
        # a seat's first "follow" in a world builds its stand-in (the historical agent)
        report("  choice, first turn", choices[: len(players)])
        report("  choice, later turns", choices[len(players) :])
    report("update: revision poll", polls)
    report("update: poll + live fragment", updates)


def paced(client: httpx.Client, args: argparse.Namespace, players: list[str], choose: Any) -> None:
    """Turns of ``args.pace`` seconds: each player chooses at a random moment of the turn
    (seeded), each page polls its revision every two seconds from a random phase and
    fetches its live part when the revision moved."""
    rng = random.Random(1)
    polls: list[float] = []
    fetches: list[float] = []
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def poll(token: str) -> None:
        t = time.perf_counter()
        r = client.get(f"/play/{token}/revision")
        polls.append(time.perf_counter() - t)
        revision = int(r.json()["revision"])
        with lock:
            moved = seen.get(token) != revision
            seen[token] = revision
        if moved:
            t = time.perf_counter()
            assert client.get(f"/play/{token}/live").status_code == 200
            fetches.append(time.perf_counter() - t)

    chosen: list[float] = []

    def timed_choice(token: str) -> None:
        t = time.perf_counter()
        choose(token)
        chosen.append(time.perf_counter() - t)

    for token in players:  # each page's first look, not measured
        seen[token] = int(client.get(f"/play/{token}/revision").json()["revision"])
    start = time.perf_counter()
    late = 0
    with ThreadPoolExecutor(args.threads) as pool:
        for turn in range(args.turns):
            if time.perf_counter() - start > args.max_seconds:
                print(f"stopped after {turn} turns (--max-seconds)")
                break
            t0 = time.perf_counter()
            events = [(rng.uniform(0, args.pace), timed_choice, p) for p in players]
            for p in players:
                phase = rng.uniform(0, 2.0)
                events += [(at, poll, p) for at in _every(phase, 2.0, args.pace)]
            events.sort(key=lambda e: e[0])
            jobs = []
            for at, fn, token in events:
                wait = t0 + at - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                elif wait < -0.5:
                    late += 1
                jobs.append(pool.submit(fn, token))
            for j in jobs:
                j.result()
    elapsed = time.perf_counter() - start
    print(
        f"{args.turns} turns of {args.pace:g} s in {elapsed:.1f} s "
        f"({(len(chosen) + len(polls) + len(fetches)) / elapsed:.0f} requests/s; "
        f"{late} requests sent over half a second late)"
    )
    report("choice (POST /api/seat/choice)", chosen)
    report("update: revision poll", polls)
    report("update: live part (when moved)", fetches)


def _every(phase: float, step: float, until: float) -> list[float]:
    out, at = [], phase
    while at < until:
        out.append(at)
        at += step
    return out


if __name__ == "__main__":
    main()
