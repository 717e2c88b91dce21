"""A language model in a leader's chair, through any OpenAI-compatible chat endpoint.

``--agent ussr=llm:MODEL,base_url=...`` (Ollama, vLLM, llama.cpp's server, a hosted API).
Each turn the model reads its actor's briefing (:mod:`crisislab.agents.llm_prompt`: the
actor's observation only, its options by id, the letters it has seen) and answers with
one JSON object: the option, an optional letter with terms, a short private rationale.
The request asks for that form by JSON schema (``response_format``); a reply in prose is
searched for its JSON object.

- **Batching.** Crises that share a history share a briefing: within a turn the rows of
  the batch are grouped by their request, and each distinct request is asked once.
  Distinct requests go out concurrently (``concurrency``), under a budget (``max_calls``,
  ``max_tokens_total``) that stops the work with a clear message and keeps every reply
  already stored.
- **Invalid replies.** A reply that does not parse, or names an option that is not
  available, is answered with what was wrong and asked again, up to ``max_retries``
  times; then the declared ``fallback`` agent chooses for those crises (by default the
  actor's status quo, its default action). A timeout or a server error from the
  endpoint counts as a failed try. Every retry, fallback and error is counted, and the
  counts go into the run's results.
- **Reproducible.** Every request and reply is kept in the cache the command hands its
  agents (:class:`~crisislab.agents.llm_cache.ReplyCache`; the commands hand over the
  database's, :mod:`crisislab.llm_store`, through :func:`llm_session`), keyed by model,
  endpoint, the request's hash and the sampling parameters, so a rerun
  asks nothing it has asked before (``--llm-cache use``), or nothing at all
  (``--llm-cache only``), and gives the same result. With ``temperature`` 0, or a
  ``seed``, the agent is deterministic: one reply per distinct briefing. With a
  temperature above 0 and no seed it is stochastic: it takes ``samples`` replies per
  briefing (each stored under its number) and each crisis draws one of them from its
  own random stream, so reruns still give the same crises.

The key comes from the environment (``CRISISLAB_LLM_API_KEY``, else ``OPENAI_API_KEY``);
a local server needs none.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from crisislab.agents.base import Agent
from crisislab.agents.llm_cache import NoReplies, ReplyCache, StoredReply, digest, reply_key
from crisislab.agents.llm_prompt import (
    ANSWER_SCHEMA,
    ReplyError,
    messages,
    read_reply,
    retry_message,
)
from crisislab.agents.registry import AgentSpecError
from crisislab.engine.observation import Observation
from crisislab.files import InputError
from crisislab.scenario.model import Scenario

CACHE_MODES = ("use", "only", "off")
KEY_VARIABLES = ("CRISISLAB_LLM_API_KEY", "OPENAI_API_KEY")
DEFAULT_BASE_URL = "http://localhost:11434/v1"  # Ollama's OpenAI-compatible endpoint
MAX_RETRIES = 20
MAX_CONCURRENCY = 64
MAX_SAMPLES = 64
FLUSH_EVERY = 2.0  # seconds between writes of the replies received
FLUSH_ROWS = 200  # or as soon as this many wait
MEMO_LIMIT = 100_000  # replies kept in memory during a command


class LLMError(InputError):
    """The model's work cannot go on (no server, a refused key, the budget spent, a reply
    missing offline); the message says which, and what was kept. Exit 1."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint, code=1)


class LLMSpecError(InputError, AgentSpecError):
    """A bad option of the ``llm`` agent (exit 2); the message says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message} ({hint})" if hint else message)


# ---- the settings of a command, and what the models did in it ----------------------------


@dataclass
class SeatCounts:
    """What one seat's model did during a command (the ``llm`` section of results)."""

    actor: str
    model: str
    endpoint: str
    decisions: int = 0  # distinct briefings answered (one per sample)
    requests: int = 0  # requests answered, retries included
    calls: int = 0  # of which asked of the endpoint now
    cached: int = 0  # of which answered from the store
    retries: int = 0
    invalid: int = 0  # replies that did not parse or named an option not available
    errors: int = 0  # timeouts and server errors from the endpoint
    fallbacks: int = 0  # decisions left to the fallback agent
    letters: int = 0  # letters the model wrote
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["cost"] = round(self.cost, 8)
        out["latency_s"] = round(self.latency_s, 3)
        return out


@dataclass
class Settings:
    """How the ``llm`` agents of one command read and write their cache of replies."""

    cache: str = "use"
    replies: ReplyCache = field(default_factory=NoReplies)
    progress: bool = False
    counts: dict[tuple[str, str, str], SeatCounts] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)  # every reply used
    asked: set[str] = field(default_factory=set)  # the replies asked for in this command
    pending: list[StoredReply] = field(default_factory=list)  # received, not yet stored
    memo: dict[str, Reply] = field(default_factory=dict)  # replies read or received
    absent: set[str] = field(default_factory=set)  # this turn's keys found not stored
    flushed: float = field(default_factory=time.monotonic)

    def remember(self, reply: Reply) -> None:
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
        self.memo[reply.key] = reply

    def flush(self, every: float = 0.0) -> None:
        """Store the replies received (in one transaction), at most every ``every``
        seconds unless many are waiting."""
        with self.lock:
            if not self.pending or (
                time.monotonic() - self.flushed < every and len(self.pending) < FLUSH_ROWS
            ):
                return
            rows, self.pending = self.pending, []
            self.flushed = time.monotonic()
        self.replies.put(rows, replace=self.cache == "off")

    lock: threading.Lock = field(default_factory=threading.Lock)

    def seat(self, actor: str, model: str, endpoint: str) -> SeatCounts:
        key = (actor, model, endpoint)
        with self.lock:
            if key not in self.counts:
                self.counts[key] = SeatCounts(actor, model, endpoint)
            return self.counts[key]

    def report(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.counts.values()]


SETTINGS = Settings()  # outside a session: replies kept in this process only


@contextmanager
def llm_session(
    cache: str = "use", replies: ReplyCache | None = None, progress: bool = False
) -> Iterator[Settings]:
    """The settings of one command's ``llm`` agents, and their counts when it ends: how
    they use (``cache``) the replies kept in ``replies`` (none kept if not given)."""
    global SETTINGS
    if cache not in CACHE_MODES:
        raise LLMSpecError(
            f"--llm-cache must be one of {', '.join(CACHE_MODES)}, not '{cache}'",
            "e.g. --llm-cache only",
        )
    previous = SETTINGS
    SETTINGS = Settings(
        cache=cache, replies=NoReplies() if replies is None else replies, progress=progress
    )
    try:
        yield SETTINGS
    finally:
        try:
            SETTINGS.flush()
        finally:
            SETTINGS = previous


# ---- talking to the endpoint -------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    text: str
    error: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    cost: float
    key: str
    cached: bool


class _Stop(Exception):
    """Raised in a worker thread to stop every request of the turn."""


def _client(base_url: str, timeout: float) -> Any:
    from crisislab.extras import require

    httpx = require("httpx", "llm")
    headers = {"Content-Type": "application/json"}
    key = next((os.environ[k] for k in KEY_VARIABLES if os.environ.get(k, "").strip()), "")
    if key:
        headers["Authorization"] = f"Bearer {key.strip()}"
    return httpx.Client(base_url=base_url, timeout=timeout, headers=headers)


# ---- the agent ---------------------------------------------------------------------------


class LLMAgent:
    """A leader played by a language model (see the module's docstring). Deterministic:
    one reply per distinct briefing (temperature 0, or a fixed seed)."""

    name: ClassVar[str] = "llm"
    stochastic: ClassVar[bool] = False
    needs_model_server: ClassVar[bool] = True

    def __init__(
        self,
        scenario: Scenario,
        actor: str,
        model: str = "",
        base_url: str = DEFAULT_BASE_URL,
        temperature: float = 0.0,
        seed: int | None = None,
        persona: str = "",
        max_retries: int = 2,
        fallback: str | None = None,
        timeout: float = 60.0,
        concurrency: int = 4,
        max_calls: int | None = None,
        max_tokens_total: int | None = None,
        max_tokens: int = 400,
        price_in: float = 0.0,
        price_out: float = 0.0,
        samples: int = 1,
        schema: bool = True,
    ) -> None:
        model = str(model).strip()
        if not model:
            raise LLMSpecError(
                "the llm agent needs a model: llm:MODEL",
                "e.g. --agent ussr=llm:qwen2.5:7b,base_url=http://localhost:11434/v1",
            )
        self.scenario, self.actor, self.model = scenario, actor, model
        self.base_url = str(base_url).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise LLMSpecError(
                f"base_url '{base_url}' is not an http:// or https:// URL",
                "e.g. base_url=http://localhost:11434/v1",
            )
        self.temperature = _number("temperature", temperature, 0.0, 2.0)
        self.seed = None if seed is None else int(_number("seed", seed, 0, 2**63 - 1))
        self.persona = str(persona)
        self.max_retries = int(_number("max_retries", max_retries, 0, MAX_RETRIES))
        self.timeout = _number("timeout", timeout, 0.01, 3600.0)
        self.concurrency = int(_number("concurrency", concurrency, 1, MAX_CONCURRENCY))
        self.max_calls = (
            None if max_calls is None else int(_number("max_calls", max_calls, 1, 10**9))
        )
        self.max_tokens_total = (
            None
            if max_tokens_total is None
            else int(_number("max_tokens_total", max_tokens_total, 1, 10**12))
        )
        self.max_tokens = int(_number("max_tokens", max_tokens, 16, 100_000))
        self.price_in = _number("price_in", price_in, 0.0, 1.0)
        self.price_out = _number("price_out", price_out, 0.0, 1.0)
        self.samples = int(_number("samples", samples, 1, MAX_SAMPLES))
        self.schema = bool(schema)
        self.fallback_spec = fallback
        self.fallback: Agent | None = None
        if fallback:
            from crisislab.agents.registry import make_agent

            if str(fallback).partition(":")[0].strip() == "llm":
                raise LLMSpecError(
                    "an llm agent's fallback cannot be another llm agent", "e.g. fallback=dove"
                )
            self.fallback = make_agent(str(fallback), scenario, actor)
            if getattr(self.fallback, "needs_model_server", False):
                raise LLMSpecError(
                    "an llm agent's fallback cannot be another llm agent", "e.g. fallback=dove"
                )
            if getattr(self.fallback, "stochastic", True) and not (
                getattr(self.fallback, "lumpable", False)
                and getattr(self.fallback, "policy", None) is not None
            ):
                raise LLMSpecError(
                    f"the fallback '{fallback}' draws chance of its own, so "
                    "crises could not share the model's replies",
                    "use a deterministic agent or a leader model, e.g. "
                    "fallback=dove or fallback=historical",
                )
        self.default = scenario.default_action(actor).local
        self.letters: list[dict[str, Any] | None] = []  # per row, of the last act
        # per row of the last act: each option a reply chose, with the letter of the
        # first reply (in sample order) that chose it (None if it wrote none)
        self._replied: list[dict[int, dict[str, Any] | None]] = []
        self._calls = 0
        self._tokens = 0
        self._budget = threading.Lock()
        self._http: Any = None

    # -- metadata ----------------------------------------------------------------------

    @property
    def sampling(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
            "schema": self.schema,
        }

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_http"] = None
        state["_budget"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._budget = threading.Lock()

    # -- acting ------------------------------------------------------------------------

    def letters_for(self, choice: np.ndarray, parents: np.ndarray) -> list[dict[str, Any] | None]:
        """The letter that goes with each row's choice of the last act: ``choice`` per
        row of the batch after the choice was made, whose rows past those observed are
        copies of the rows ``parents`` (a lumped batch split by the draw of a sampled
        model). A row's letter is that of the first reply (in sample order) that chose
        the option the row took; none where the fallback chose it."""
        n = len(self._replied)
        out: list[dict[str, Any] | None] = []
        for row, pick in enumerate(np.asarray(choice, dtype=np.int64).tolist()):
            origin = row if row < n else int(parents[row - n])
            letter = self._replied[origin].get(pick) if origin < n else None
            out.append(letter if isinstance(letter, dict) else None)
        return out

    def act(self, observation: Observation) -> np.ndarray:
        probs = self._decide(observation)
        return np.argmax(probs, axis=1).astype(np.int64)

    def _decide(self, obs: Observation) -> np.ndarray:
        """(N, k) probabilities: one-hot where the model (or a deterministic fallback)
        chose, the mean over samples where it sampled."""
        n, k = obs.n, len(obs.actions)
        out = np.zeros((n, k))
        out[:, self.default] = 1.0  # ended crises: ignored
        rows = np.flatnonzero(obs.active)
        self.letters = [None] * n
        self._replied = [{} for _ in range(n)]
        if rows.size == 0:
            return out
        groups: dict[str, list[int]] = {}
        firsts: dict[str, list[dict[str, str]]] = {}
        for first, alike in _situations(obs, rows):
            msgs = messages(self.scenario, obs, first, self.persona)
            text = msgs[-1]["content"]
            groups.setdefault(text, []).extend(alike)
            firsts[text] = msgs
        settings = SETTINGS
        counts = settings.seat(self.actor, self.model, self.base_url)
        jobs = [(text, s) for text in groups for s in range(self.samples)]
        results = self._run(jobs, firsts, obs, groups, settings, counts)
        # each option's share of the samples; what no usable reply decided, the fallback's
        share = np.zeros((n, k))
        left = np.zeros(n)
        fallen = 0
        for text, sample in jobs:  # in sample order, whichever reply came back first
            choice = results[(text, sample)]
            members = np.array(groups[text], dtype=np.int64)
            if choice is None:
                left[members] += 1.0 / self.samples
                fallen += 1
                continue
            share[members, choice.local] += 1.0 / self.samples
            for m in members:
                self._replied[m].setdefault(choice.local, choice.letter)
                if choice.letter and self.letters[m] is None:
                    self.letters[m] = choice.letter
        if left.any():
            share += left[:, None] * self._fallback(obs)
        out[rows] = share[rows]
        with settings.lock:
            counts.fallbacks += fallen
        return out

    def _fallback(self, obs: Observation) -> np.ndarray:
        """(N, k) the fallback's choice as probabilities."""
        k = len(obs.actions)
        if self.fallback is None:
            legal = obs.legal
            pick = np.where(legal[:, self.default], self.default, np.argmax(legal, axis=1))
            return np.eye(k)[pick]
        policy = getattr(self.fallback, "policy", None)
        if policy is not None and getattr(self.fallback, "stochastic", False):
            return np.asarray(policy(obs), dtype=np.float64)
        return np.eye(k)[np.asarray(self.fallback.act(obs), dtype=np.int64)]

    def _run(
        self,
        jobs: list[tuple[str, int]],
        firsts: dict[str, list[dict[str, str]]],
        obs: Observation,
        groups: dict[str, list[int]],
        settings: Settings,
        counts: SeatCounts,
    ) -> dict[tuple[str, int], Any]:
        legal = obs.legal
        results: dict[tuple[str, int], Any] = {}
        stop = threading.Event()
        if settings.cache != "off":  # the first tries' replies, in one query
            keys = [self._key(firsts[text], sample, 0)[3] for text, sample in jobs]
            with settings.lock:
                wanted = [k for k in keys if k not in settings.memo]
            found = settings.replies.get_many(wanted)
            with settings.lock:
                for row in found:
                    settings.remember(
                        Reply(
                            row.reply,
                            row.error,
                            row.tokens_in,
                            row.tokens_out,
                            row.latency_s,
                            row.cost,
                            row.key,
                            True,
                        )
                    )
                settings.absent = set(wanted) - {r.key for r in found}
        bar = _Bar(settings.progress, len(jobs), f"{self.actor} ({self.model}), {obs.label}")

        def one(job: tuple[str, int]) -> None:
            text, sample = job
            row = groups[text][0]
            results[job] = self._resolve(
                firsts[text], sample, obs.actions, legal[row], settings, counts, stop
            )
            bar.advance()

        try:
            if self.concurrency == 1 or len(jobs) == 1:
                for job in jobs:
                    one(job)
            else:
                with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    futures: list[Future[None]] = [pool.submit(one, j) for j in jobs]
                    done, pending = wait(futures, return_when=FIRST_EXCEPTION)
                    if any(f.exception() is not None for f in done):
                        stop.set()
                        for f in pending:
                            f.cancel()
                        wait(pending)
                    errors = [f.exception() for f in futures if not f.cancelled()]
                    real = [e for e in errors if e is not None and not isinstance(e, _Stop)]
                    if real:
                        raise real[0]
        except BaseException:
            settings.flush()  # every reply received is kept when the work stops
            raise
        finally:
            bar.close()
            settings.absent = set()
        settings.flush(every=FLUSH_EVERY)
        return results

    def _resolve(
        self,
        first: list[dict[str, str]],
        sample: int,
        actions: tuple[str, ...],
        legal: np.ndarray,
        settings: Settings,
        counts: SeatCounts,
        stop: threading.Event,
    ) -> Any:
        """One decision: ask, check, ask again with what was wrong; None if no usable
        answer came within the tries."""
        conversation = list(first)
        for attempt in range(self.max_retries + 1):
            if stop.is_set():
                raise _Stop()
            if attempt:
                with settings.lock:
                    counts.retries += 1
            reply = self._ask(conversation, sample, attempt, settings, counts)
            if reply.error:
                with settings.lock:
                    counts.errors += 1
                continue
            try:
                choice = read_reply(reply.text, actions, legal)
            except ReplyError as e:
                with settings.lock:
                    counts.invalid += 1
                conversation = [
                    *conversation,
                    {"role": "assistant", "content": reply.text},
                    retry_message(str(e)),
                ]
                continue
            with settings.lock:
                counts.decisions += 1
                counts.letters += 1 if choice.letter else 0
            return choice
        with settings.lock:
            counts.decisions += 1
        return None

    def _request(self, conversation: list[dict[str, str]], sample: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": conversation,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if self.schema:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "leader_choice", "strict": True, "schema": ANSWER_SCHEMA},
            }
        return body

    def _key(
        self, conversation: list[dict[str, str]], sample: int, attempt: int
    ) -> tuple[dict[str, Any], str, dict[str, Any], str]:
        body = self._request(conversation, sample)
        prompt_hash = digest(body)
        params = {**self.sampling, "sample": sample, "attempt": attempt}
        return body, prompt_hash, params, reply_key(self.model, self.base_url, prompt_hash, params)

    def _ask(
        self,
        conversation: list[dict[str, str]],
        sample: int,
        attempt: int,
        settings: Settings,
        counts: SeatCounts,
    ) -> Reply:
        body, prompt_hash, params, key = self._key(conversation, sample, attempt)
        readable = settings.cache != "off" or key in settings.asked
        with settings.lock:
            known = settings.memo.get(key) if readable else None
        if known is None and readable and key not in settings.absent:
            row = settings.replies.get(key)
            if row is not None:
                known = Reply(
                    row.reply,
                    row.error,
                    row.tokens_in,
                    row.tokens_out,
                    row.latency_s,
                    row.cost,
                    key,
                    True,
                )
        if known is not None:
            reply = replace(known, cached=True)
            self._count(reply, settings, counts)
            return reply
        if settings.cache == "only":
            raise LLMError(
                f"no stored reply of {self.model} at {self.base_url} for "
                f"{self.actor} at {_turn_of(conversation)} (request {prompt_hash[:12]}, "
                f"sample {sample}, try {attempt + 1}); --llm-cache only asks nothing",
                "run it once with --llm-cache use, or import the study's replies "
                "with `crisislab llm import FILE`",
            )
        self._spend()
        reply = self._call(body, key)
        row = StoredReply(
            key=key,
            model=self.model,
            endpoint=self.base_url,
            prompt_hash=prompt_hash,
            params=params,
            request=body,
            reply=reply.text,
            error=reply.error,
            tokens_in=reply.tokens_in,
            tokens_out=reply.tokens_out,
            latency_s=reply.latency_s,
            cost=reply.cost,
        )
        with settings.lock:
            settings.asked.add(key)
            settings.remember(reply)
            settings.pending.append(row)
        with self._budget:
            self._tokens += reply.tokens_in + reply.tokens_out
        self._count(reply, settings, counts)
        return reply

    def _count(self, reply: Reply, settings: Settings, counts: SeatCounts) -> None:
        with settings.lock:
            counts.requests += 1
            counts.cached += reply.cached
            counts.calls += not reply.cached
            counts.tokens_in += reply.tokens_in
            counts.tokens_out += reply.tokens_out
            counts.cost += reply.cost
            counts.latency_s += reply.latency_s
            settings.keys.add(reply.key)

    def _spend(self) -> None:
        with self._budget:
            if self.max_calls is not None and self._calls >= self.max_calls:
                raise LLMError(
                    f"the budget of {self.max_calls:,} calls to {self.model} is spent; the "
                    "replies received so far are stored",
                    "rerun with a larger max_calls=: stored replies are not asked again",
                )
            if self.max_tokens_total is not None and self._tokens >= self.max_tokens_total:
                raise LLMError(
                    f"the budget of {self.max_tokens_total:,} tokens for {self.model} is "
                    f"spent ({self._tokens:,} used); the replies received so far are stored",
                    "rerun with a larger max_tokens_total=: stored replies are not asked again",
                )
            self._calls += 1

    def _call(self, body: dict[str, Any], key: str) -> Reply:
        """One request to the endpoint. A timeout or a server error is a failed try (the
        reply holds the error); an endpoint that cannot be reached, refuses the key or
        does not know the model stops the work."""
        from crisislab.extras import require

        httpx = require("httpx", "llm")
        if self._http is None:
            self._http = _client(self.base_url, self.timeout)
        started = time.perf_counter()
        where = f"{self.base_url}/chat/completions"
        try:
            response = self._http.post("/chat/completions", json=body)
        except httpx.TimeoutException:
            return self._failed(f"no answer within {self.timeout:g} s", started, key)
        except httpx.HTTPError as e:
            raise LLMError(
                f"cannot reach the model server at {where}: {type(e).__name__}: {e}",
                "start the server (e.g. `ollama serve`), check base_url=, or "
                "rerun offline with --llm-cache only",
            ) from None
        latency = time.perf_counter() - started
        status = response.status_code
        if status in (401, 403):
            raise LLMError(
                f"the model server at {where} refused the request (HTTP "
                f"{status}): {_detail(response)}",
                f"set {KEY_VARIABLES[0]} (or {KEY_VARIABLES[1]}) to a valid key",
            )
        if status == 404:
            raise LLMError(
                f"the model server at {where} has no model '{self.model}' or no "
                f"chat endpoint (HTTP 404): {_detail(response)}",
                "check the model's name (e.g. `ollama list`) and base_url=",
            )
        if status == 429 or status >= 500:
            return self._failed(f"HTTP {status}: {_detail(response)}", started, key)
        if status >= 400:
            raise LLMError(
                f"the model server at {where} rejected the request (HTTP "
                f"{status}): {_detail(response)}",
                "if it does not take a JSON schema, add schema=false",
            )
        try:
            data = response.json()
            text = data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            return self._failed(
                f"an answer that is not a chat completion: {response.text[:200]!r}", started, key
            )
        usage = data.get("usage") or {}
        tin = int(usage.get("prompt_tokens") or 0)
        tout = int(usage.get("completion_tokens") or 0)
        cost = tin * self.price_in + tout * self.price_out
        return Reply(str(text), "", tin, tout, latency, cost, key, False)

    def _failed(self, error: str, started: float, key: str) -> Reply:
        return Reply("", error, 0, 0, time.perf_counter() - started, 0.0, key, False)


class SampledLLMAgent(LLMAgent):
    """A language model sampled at a temperature above 0 without a seed: ``samples``
    replies per briefing; each crisis draws one from its own stream."""

    stochastic: ClassVar[bool] = True
    lumpable: ClassVar[bool] = True  # draws only through ``policy``

    def policy(self, observation: Observation) -> np.ndarray:
        return self._decide(observation)

    def act(self, observation: Observation) -> np.ndarray:
        probs = self._decide(observation)
        u = observation.uniform()
        cum = np.cumsum(probs, axis=1)
        pick = (u[:, None] >= cum).sum(axis=1)
        return np.minimum(pick, probs.shape[1] - 1).astype(np.int64)


def llm(scenario: Scenario, actor: str, model: str = "", **options: Any) -> LLMAgent:
    """``llm:MODEL[,option=value...]``: the deterministic agent, or the sampled one when
    the temperature is above 0 and no seed is given (or the fallback draws chance)."""
    temperature = _number("temperature", options.get("temperature", 0.0), 0.0, 2.0)
    sampled = temperature > 0 and options.get("seed") is None
    if not sampled and options.get("fallback"):
        from crisislab.agents.registry import make_agent

        fb = make_agent(str(options["fallback"]), scenario, actor)
        sampled = bool(getattr(fb, "stochastic", False))
    if sampled:
        if temperature > 0 and options.get("seed") is None:
            options.setdefault("samples", 4)
        return SampledLLMAgent(scenario, actor, model, **options)
    if _number("samples", options.get("samples", 1), 1, MAX_SAMPLES) != 1:
        raise LLMSpecError(
            "samples= needs a temperature above 0 and no seed", "e.g. temperature=0.7,samples=4"
        )
    return LLMAgent(scenario, actor, model, **options)


# ---- small helpers -----------------------------------------------------------------------


def _situations(obs: Observation, rows: np.ndarray) -> list[tuple[int, list[int]]]:
    """The rows grouped by everything the briefing reads (what the actor sees, what it
    saw last turn, its legal options): one briefing is written per group, so an unlumped
    batch of many crises costs a prompt per situation, not per crisis."""
    _, matrix = obs.matrix
    parts = [np.nan_to_num(matrix[:, rows].T, nan=-1e300), obs.legal[rows]]
    parts += [obs.seen_actions[a][rows, None] for a in sorted(obs.seen_actions)]
    parts += [obs.seen_events[e][rows, None] for e in sorted(obs.seen_events)]
    key = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts], axis=1)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    out: list[tuple[int, list[int]]] = []
    for chunk in np.split(order, bounds):
        out.append((int(rows[first[inverse[chunk[0]]]]), [int(r) for r in rows[chunk]]))
    return out


def _number(name: str, value: Any, low: float, high: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise LLMSpecError(
            f"the llm option {name}={value} is not a number",
            f"give {name} a number from {low:g} to {high:g}",
        ) from None
    if not low <= x <= high:
        raise LLMSpecError(
            f"the llm option {name}={value} is out of range",
            f"give {name} a number from {low:g} to {high:g}",
        )
    return x


def _detail(response: Any) -> str:
    try:
        data = response.json()
        message = data.get("error", {}).get("message") if isinstance(data, dict) else None
        if isinstance(message, str):
            return message[:200]
    except ValueError:
        pass
    return (response.text or response.reason_phrase or "")[:200]


def _turn_of(conversation: list[dict[str, str]]) -> str:
    first = next((m["content"] for m in conversation if m["role"] == "user"), "")
    return first.split(". ")[0][:60] or "this turn"


class _Bar:
    """A progress bar on a terminal's stderr while a turn's requests are out."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self._progress: Any = None
        if enabled and total > 1 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress

            self._progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=total)
        self._lock = threading.Lock()

    def advance(self) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress.advance(self._task)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
