"""The language-model leader against a real HTTP endpoint (tests/llm_server.py) that
speaks the OpenAI chat-completions protocol and answers from a recorded cassette: the
real client, structured and malformed replies, retries, fallbacks, endpoint errors, the
budget, the store, offline reruns, export and import, and the briefing's fog of war."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from crisislab.agents.llm import LLMAgent, SampledLLMAgent
from crisislab.agents.llm_prompt import messages
from crisislab.agents.registry import AgentSpecError, make_agent
from crisislab.scenario.loader import load_scenario

from .llm_server import Endpoint, serve

MINI = str(Path(__file__).parent / "data" / "mini.yaml")
CUBA = load_scenario("cuba-1962")


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with serve() as ep:
        yield ep


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "crisislab.db"
    monkeypatch.setenv("CRISISLAB_DB", str(path))
    monkeypatch.delenv("CRISISLAB_LLM_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return path


def run_app(*args: str) -> Any:
    from crisislab.cli import app

    return CliRunner().invoke(app, list(args))


def simulate(*agents: str, runs: int = 300, extra: tuple[str, ...] = ()) -> Any:
    args = ["simulate", MINI, "--runs", str(runs), "--seed", "7", "-f", "json"]
    for a in agents:
        args += ["--agent", a]
    return run_app(*args, *extra)


def seat(model: str, ep: Endpoint, options: str = "") -> str:
    return f"llm:{model},base_url={ep.url}" + (f",{options}" if options else "")


def steady(doc: dict[str, Any]) -> dict[str, Any]:
    """A run's results without what differs from one rerun to the next (timing, run id,
    and how many replies came from the endpoint rather than the store)."""
    out = {k: v for k, v in doc.items() if k not in ("elapsed_s", "run_id", "execution")}
    out["llm"] = [
        {k: v for k, v in c.items() if k not in ("calls", "cached", "latency_s")}
        for c in doc.get("llm", [])
    ]
    return out


# ---- the agent's spec ------------------------------------------------------------------


def test_a_model_name_may_hold_colons_and_options_follow_it() -> None:
    a = make_agent(
        "llm:qwen2.5:7b,base_url=http://localhost:11434/v1,seed=3,max_retries=1,fallback=dove",
        CUBA,
        "ussr",
    )
    assert isinstance(a, LLMAgent) and not a.stochastic
    assert (a.model, a.base_url, a.seed, a.max_retries) == (
        "qwen2.5:7b",
        "http://localhost:11434/v1",
        3,
        1,
    )
    assert a.fallback is not None and a.fallback.name == "dove"


def test_temperature_without_a_seed_makes_it_stochastic_through_its_policy() -> None:
    hot = make_agent("llm:m,temperature=0.7", CUBA, "ussr")
    assert isinstance(hot, SampledLLMAgent) and hot.stochastic and hot.samples == 4
    seeded = make_agent("llm:m,temperature=0.7,seed=1", CUBA, "ussr")
    assert not seeded.stochastic
    from crisislab.engine.loop import lumpable

    assert lumpable({"ussr": hot})  # the engine draws for it: crises stay lumped


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("llm:", "needs a model"),
        ("llm:m,temperature=hot", "temperature=hot is not a number"),
        ("llm:m,max_retries=99", "max_retries=99 is out of range"),
        ("llm:m,base_url=localhost:1", "not an http:// or https:// URL"),
        ("llm:m,fallback=llm:other", "cannot be another llm agent"),
        ("llm:m,fallback=random", "draws chance of its own"),
        ("llm:m,samples=3", "samples= needs a temperature above 0"),
        ("llm:m,colour=red", "does not take these options"),
    ],
    ids=[
        "no-model",
        "nan",
        "range",
        "url",
        "llm-fallback",
        "random-fallback",
        "samples",
        "unknown",
    ],
)
def test_bad_specs_say_what_to_write(spec: str, words: str, db: Path) -> None:
    with pytest.raises(AgentSpecError, match=words):
        make_agent(spec, CUBA, "ussr")
    result = simulate(f"red={spec}")
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output


# ---- a study against the endpoint -------------------------------------------------------


def test_structured_replies_play_the_seats_and_are_counted(
    endpoint: Endpoint, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRISISLAB_LLM_API_KEY", "sk-test-123")
    result = simulate(f"red={seat('cautious-7b', endpoint)}", f"blue={seat('bold-7b', endpoint)}")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    red, blue = doc["llm"]
    assert (red["actor"], red["model"], blue["model"]) == ("red", "cautious-7b", "bold-7b")
    assert red["decisions"] > 0 and red["requests"] == red["calls"] + red["cached"]
    assert red["fallbacks"] == red["retries"] == red["invalid"] == red["errors"] == 0
    assert blue["invalid"] == 0  # prose around a fenced JSON block is read
    assert red["tokens_in"] > 0 and red["tokens_out"] > 0
    body = endpoint.requests[0]["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["temperature"] == 0
    assert endpoint.requests[0]["auth"] == "Bearer sk-test-123"
    # the model's own choice decides: the cautious red offers, the bold red deploys
    offers = json.loads(simulate(f"red={seat('cautious-7b', endpoint)}", "blue=hawk").stdout)
    bold = json.loads(simulate(f"red={seat('bold-7b', endpoint)}", "blue=hawk").stdout)
    assert offers["outcomes"]["war"]["count"] == 0 < bold["outcomes"]["war"]["count"]
    stored = json.loads(run_app("runs", "--format", "json").stdout)["runs"]
    assert stored[-1]["agents"].startswith("red=llm:cautious-7b")


def test_one_request_per_distinct_briefing(endpoint: Endpoint, db: Path) -> None:
    result = simulate(f"red={seat('cautious-7b', endpoint)}", "blue=hawk", runs=2000)
    assert result.exit_code == 0, result.output
    red = json.loads(result.stdout)["llm"][0]
    prompts = {json.dumps(r["body"]["messages"]) for r in endpoint.requests}
    assert len(endpoint.requests) == len(prompts) == red["calls"]
    assert red["calls"] < 100  # 2,000 crises, a few dozen distinct situations


def test_a_malformed_reply_is_asked_again(endpoint: Endpoint, db: Path) -> None:
    result = simulate(f"red={seat('muddled-7b', endpoint)}", "blue=hawk")
    assert result.exit_code == 0, result.output
    red = json.loads(result.stdout)["llm"][0]
    assert red["invalid"] == red["retries"] == red["decisions"] > 0
    assert red["fallbacks"] == 0
    retry = next(r["body"]["messages"] for r in endpoint.requests if len(r["body"]["messages"]) > 2)
    assert retry[-2]["role"] == "assistant" and "consult the Presidium" in retry[-2]["content"]
    assert "holds no JSON object" in retry[-1]["content"]
    same = simulate(f"red={seat('cautious-7b', endpoint)}", "blue=hawk")
    assert json.loads(result.stdout)["outcomes"] == json.loads(same.stdout)["outcomes"]


def test_unavailable_options_fall_back_to_the_declared_agent(endpoint: Endpoint, db: Path) -> None:
    result = simulate(
        f"red={seat('reckless-7b', endpoint, 'max_retries=1,fallback=hawk')}", "blue=hawk"
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    red = doc["llm"][0]
    assert red["fallbacks"] == red["decisions"] > 0
    assert red["invalid"] == 2 * red["decisions"] and red["retries"] == red["decisions"]
    assert "is not available now" in endpoint.requests[1]["body"]["messages"][-1]["content"]
    hawk = json.loads(simulate("red=hawk", "blue=hawk").stdout)
    assert doc["outcomes"] == hawk["outcomes"]  # every decision was the hawk's
    assert hawk["outcomes"]["war"]["count"] > 0
    # a fallback that draws (the fitted leader off the record) makes the agent draw too
    drawn = simulate(
        f"red={seat('reckless-7b', endpoint, 'max_retries=0,fallback=leader')}", "blue=hawk"
    )
    assert drawn.exit_code == 0, drawn.output
    assert (
        json.loads(drawn.stdout)["outcomes"]
        == json.loads(simulate("red=leader", "blue=hawk").stdout)["outcomes"]
    )


def test_server_errors_are_retried_and_counted(endpoint: Endpoint, db: Path) -> None:
    result = simulate(f"red={seat('flaky-7b', endpoint)}", "blue=hawk")
    assert result.exit_code == 0, result.output
    red = json.loads(result.stdout)["llm"][0]
    assert red["errors"] == red["retries"] == red["decisions"] > 0
    assert red["fallbacks"] == 0


def test_a_timeout_is_an_error_and_the_run_goes_on(endpoint: Endpoint, db: Path) -> None:
    spec = seat("slow-7b", endpoint, "timeout=0.2,max_retries=0,concurrency=8")
    result = simulate(f"red={spec}", "blue=hawk", runs=50)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    red = doc["llm"][0]
    assert red["errors"] == red["fallbacks"] == red["decisions"] > 0
    assert doc["run_id"] is not None  # the run was not lost


def test_a_refused_key_stops_with_one_line(endpoint: Endpoint, db: Path) -> None:
    result = simulate(f"red={seat('locked-7b', endpoint)}", "blue=hawk")
    assert result.exit_code == 1
    assert "refused the request (HTTP 401): invalid API key" in result.output
    assert "CRISISLAB_LLM_API_KEY" in result.output and "Traceback" not in result.output


def test_no_server_stops_clearly(db: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = simulate(f"red=llm:m,base_url=http://127.0.0.1:{port}/v1", "blue=hawk")
    assert result.exit_code == 1
    assert "cannot reach the model server at" in result.output
    assert "--llm-cache only" in result.output


def test_the_budget_stops_the_work_and_keeps_the_replies(endpoint: Endpoint, db: Path) -> None:
    result = simulate(
        f"red={seat('cautious-7b', endpoint, 'max_calls=3,concurrency=1')}", "blue=hawk"
    )
    assert result.exit_code == 1
    assert "the budget of 3 calls to cautious-7b is spent" in result.output
    listed = json.loads(run_app("llm", "list", "--format", "json").stdout)["replies"]
    assert listed[0]["replies"] == 3 == len(endpoint.requests)
    assert json.loads(run_app("runs", "--format", "json").stdout)["runs"] == []
    again = simulate(f"red={seat('cautious-7b', endpoint)}", "blue=hawk")
    red = json.loads(again.stdout)["llm"][0]
    assert red["cached"] >= 3  # what the budget kept is not asked again


def test_a_token_budget_stops_too(endpoint: Endpoint, db: Path) -> None:
    result = simulate(f"red={seat('cautious-7b', endpoint, 'max_tokens_total=100')}", "blue=hawk")
    assert result.exit_code == 1
    assert "the budget of 100 tokens for cautious-7b is spent" in result.output


# ---- the store: reruns, offline, export and import ---------------------------------------


def test_a_rerun_from_the_store_asks_nothing_and_is_identical(endpoint: Endpoint, db: Path) -> None:
    red = f"red={seat('cautious-7b', endpoint, 'price_in=0.000001,price_out=0.000002')}"
    first = simulate(red, "blue=hawk")
    asked = len(endpoint.requests)
    second = simulate(red, "blue=hawk")
    offline = simulate(red, "blue=hawk", extra=("--llm-cache", "only"))
    assert len(endpoint.requests) == asked
    a, b, c = (json.loads(r.stdout) for r in (first, second, offline))
    assert steady(a) == steady(b) == steady(c)
    assert b["llm"][0]["calls"] == 0 and b["llm"][0]["cached"] == a["llm"][0]["requests"]
    assert a["llm"][0]["cost"] > 0 and a["llm"][0]["cost"] == c["llm"][0]["cost"]
    fresh = simulate(red, "blue=hawk", extra=("--llm-cache", "off"))
    assert len(endpoint.requests) == 2 * asked
    assert steady(json.loads(fresh.stdout)) == steady(a)


def test_only_without_the_replies_fails_with_one_line(endpoint: Endpoint, db: Path) -> None:
    result = simulate(
        f"red={seat('cautious-7b', endpoint)}", "blue=hawk", extra=("--llm-cache", "only")
    )
    assert result.exit_code == 1
    lines = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(lines) == 1
    assert "no stored reply of cautious-7b at" in lines[0] and "for red" in lines[0]
    assert endpoint.requests == []
    bad = simulate("red=dove", "blue=hawk", extra=("--llm-cache", "sometimes"))
    assert bad.exit_code == 2 and "--llm-cache must be one of use, only, off" in bad.output


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_export_import_and_rerun_offline(
    suffix: str, tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve() as ep:
        red = f"red={seat('cautious-7b', ep)}"
        first = json.loads(simulate(red, "blue=hawk").stdout)
        other = simulate(f"red={seat('bold-7b', ep)}", "blue=hawk")
        assert other.exit_code == 0
    file = tmp_path / f"study{suffix}"
    out = run_app("llm", "export", str(file), "--run", str(first["run_id"]))
    assert out.exit_code == 0, out.output
    assert (
        f"wrote {first['llm'][0]['requests'] - first['llm'][0]['cached']}" in out.output
        or "wrote" in out.output
    )
    exported = file.read_text()
    assert "cautious-7b" in exported and "bold-7b" not in exported
    monkeypatch.setenv("CRISISLAB_DB", str(tmp_path / "elsewhere.db"))
    imported = run_app("llm", "import", str(file))
    assert imported.exit_code == 0 and "imported" in imported.output
    again = run_app("llm", "import", str(file))
    assert "already stored" in again.output
    # the server is gone: the rerun reads only the imported replies
    offline = simulate(red, "blue=hawk", extra=("--llm-cache", "only"))
    assert offline.exit_code == 0, offline.output
    assert steady(json.loads(offline.stdout)) == steady(first)
    listed = run_app("llm", "list")
    assert "cautious-7b" in listed.output and "bold-7b" not in listed.output


def test_import_refuses_what_export_did_not_write(tmp_path: Path, db: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something else", "items": []}')
    result = run_app("llm", "import", str(bad))
    assert result.exit_code == 2 and "is not an export of crisislab's llm replies" in result.output
    bad.write_text("{not json")
    assert "is not JSON" in run_app("llm", "import", str(bad)).output
    empty = run_app("llm", "export", str(tmp_path / "none.json"))
    assert empty.exit_code == 1 and "no replies" in empty.output


def test_a_sampled_model_is_reproducible(endpoint: Endpoint, db: Path) -> None:
    red = f"red={seat('cautious-7b', endpoint, 'temperature=0.8,samples=2')}"
    first = simulate(red, "blue=hawk")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    samples = [r["body"] for r in endpoint.requests]
    assert all("seed" not in b and b["temperature"] == 0.8 for b in samples)
    from collections import Counter

    asked = Counter(json.dumps(b["messages"]) for b in samples)
    assert set(asked.values()) == {2}  # two samples of every distinct briefing
    counts = doc["llm"][0]
    assert counts["decisions"] == counts["requests"]
    assert counts["calls"] == len(endpoint.requests)
    offline = simulate(red, "blue=hawk", extra=("--llm-cache", "only"))
    assert offline.exit_code == 0, offline.output
    assert steady(json.loads(offline.stdout)) == steady(doc)


def test_letters_are_read_and_counted(endpoint: Endpoint, db: Path) -> None:
    result = simulate(f"red={seat('letter-writer', endpoint)}", "blue=hawk")
    assert result.exit_code == 0, result.output
    red = json.loads(result.stdout)["llm"][0]
    assert red["letters"] == red["decisions"] > 0
    text = run_app(
        "simulate",
        MINI,
        "--runs",
        "50",
        "--agent",
        f"red={seat('letter-writer', endpoint)}",
        "--agent",
        "blue=hawk",
    )
    assert "Language model, red (letter-writer):" in text.output


def test_the_text_report_names_the_counts(endpoint: Endpoint, db: Path) -> None:
    result = run_app(
        "simulate",
        MINI,
        "--runs",
        "50",
        "--agent",
        f"red={seat('muddled-7b', endpoint)}",
        "--agent",
        "blue=hawk",
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Language model"))
    assert "retries" in line and "left to the fallback" in line and "_" not in line


def test_without_httpx_the_extra_is_named(
    endpoint: Endpoint, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    result = simulate(f"red={seat('cautious-7b', endpoint)}", "blue=hawk")
    assert result.exit_code == 1
    assert "pip install 'crisislab[llm]'" in result.output
    assert len(result.output.strip().splitlines()) == 1


# ---- the briefing holds only what the actor knows ------------------------------------------


def test_the_prompt_is_the_actors_observation_only() -> None:
    from crisislab.play.session import GameSetup, Session, follow_choice

    from .test_play_fog import scrambled

    rng = np.random.default_rng(3)
    start = CUBA.clock.first_of_phase("crisis") - 6
    session = Session.new(
        CUBA,
        GameSetup(
            "cuba-1962",
            5,
            {"usa": "human", "ussr": "human", "cuba": "historical"},
            start_turn=start,
        ),
    )
    checked = 0
    for _ in range(16):
        for actor in ("usa", "ussr"):
            obs = session.engine.observe(session.state, actor)
            prompt = messages(CUBA, obs, 0)
            for _ in range(2):
                other = session.engine.observe(scrambled(session, actor, rng), actor)
                assert messages(CUBA, other, 0) == prompt
                checked += 1
        session.play_turn({a: follow_choice(session, a) for a in ("usa", "ussr")}, [])
    assert checked == 64
    # before the U-2 finds them, Washington's briefing says nothing of the missiles' count
    early = Session.new(
        CUBA, GameSetup("cuba-1962", 5, {"usa": "human", "ussr": "human", "cuba": "historical"})
    )
    usa = messages(CUBA, early.engine.observe(early.state, "usa"), 0)[1]["content"]
    ussr = messages(CUBA, early.engine.observe(early.state, "ussr"), 0)[1]["content"]
    assert "missiles in Cuba" not in usa and "missiles in Cuba" in ussr
    assert "Your options now" in usa and "usa_wait" in usa and "ussr_wait" not in usa


# ---- in the game: a model's letters go through the players' channel -----------------------


def test_a_models_letters_are_posted_and_answered_in_a_game(
    endpoint: Endpoint, db: Path, tmp_path: Path
) -> None:
    from crisislab.agents.llm import llm_session
    from crisislab.llm_store import StoredReplies
    from crisislab.play.session import GameSetup, Session

    mini = load_scenario(MINI)
    spec = seat("letter-writer", endpoint)
    with llm_session("use", StoredReplies()):
        session = Session.new(
            mini, GameSetup(MINI, 0, {"red": spec, "blue": "dove", "neutral": "scripted"})
        )
        for _ in range(4):
            session.play_turn({}, [])
        first = session.letters[0]
        # the reply asks for withdrawal and noninvasion: the toy scenario knows only the
        # first, so the letter carries that alone
        assert (first.sender, first.to, first.terms) == ("red", "blue", ["withdrawal"])
        assert "missiles home" in first.text
        answers = [x for x in session.letters if x.reply_to == first.id]
        assert (
            answers and answers[0].sender == "blue" and answers[0].stance in ("accept", "decline")
        )  # judged by the rule that judges a person's letter
    # a game with the model's seat is rebuilt from the store alone, turn for turn
    moves = tmp_path / "moves.yaml"
    moves.write_text("- follow: end\n")
    played = run_app(
        "play", MINI, "--as", "blue", "--agent", f"red={spec}", "--moves", str(moves), "-f", "json"
    )
    assert played.exit_code == 0, played.output
    game = json.loads(played.stdout)["game_id"]
    asked = len(endpoint.requests)
    from crisislab.store import Store

    row = Store().game(game)
    assert row is not None and any(x["sender"] == "red" for x in row.letters)
    again = run_app(
        "play",
        MINI,
        "--as",
        "blue",
        "--agent",
        f"red={spec}",
        "--moves",
        str(moves),
        "-f",
        "json",
        "--llm-cache",
        "only",
    )
    assert again.exit_code == 0, again.output
    assert len(endpoint.requests) == asked
    assert json.loads(again.stdout)["outcome"] == json.loads(played.stdout)["outcome"]
    # its debrief rebuilds the model's seat from the stored replies too, asking nothing
    told = run_app("debrief", str(game), "--runs", "0", "--format", "json")
    assert told.exit_code == 0, told.output
    assert len(endpoint.requests) == asked
