"""Fuzzing every option of every ``crisislab`` command, and the rows of the database.

Hypothesis draws command lines from each command's options with hostile values: text that
looks like markup (``[/]``), control characters, look-alike letters, empty strings, huge
and negative numbers, NaN and infinity, paths to devices, FIFOs and folders. Each command
line runs in-process through the app; whatever it is, the command must end with a
documented exit code (0 done, 1 failed, 2 bad usage; never 3, a bug) and print no
traceback. Expensive work is avoided by pinning cheap values first (``--runs 1``, one
worker); a drawn option given later overrides them, and drawn numbers are either tiny or
out of range, so no example starts real work.

A second part damages the JSON of stored games and runs at random: the listings must
keep working (the damaged row reported and left out) and a debrief must say which game is
damaged, never crash.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crisislab.cli import app
from crisislab.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
MINI = str(ROOT / "tests" / "data" / "mini.yaml")
DOCUMENTED_EXITS = {0, 1, 2}

# ---- hostile values ---------------------------------------------------------------------

MARKUP = ["[/]", "[/x]", "[bold]", "[red]x[/red]", "[link=file:///etc]x", "[[/]]", "\\[/]"]
ODD = [
    "",
    " ",
    "-",
    "=",
    "==",
    "a=b",
    "usa=[/]",
    "[/]=1",
    "red=random:[/]=1",
    "%s",
    "{}",
    "\x00",
    "\n",
    "\t",
    "\x1b[31m",
    "\u202e",
    "~",
    "…",
    "ｕｓａ",
    "ü",
    "1e999",
    "nan",
    "-0",
    "9" * 40,
    "red=",
    "=random",
    "red=random:x",
    "usa=hawk;ussr=dove",
    "a+b",
    "early",
    "1962-10-02",
    "9999-12-31",
    "0000-01-01",
    "red",
    "blue",
    "chicken",
    "auto",
    "json",
]

text_values = st.one_of(
    st.sampled_from(MARKUP + ODD),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)
# whole numbers: tiny (valid and cheap) or out of every range (negative or past 2**63)
int_values = st.one_of(
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=-(2**80), max_value=-1),
    st.integers(min_value=2**63, max_value=2**90),
    st.sampled_from([2**63 - 1, 10**12, 10**20]),
).map(str) | st.sampled_from(["x", "1.5", "", "0x10", "١"])
float_values = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "-1", "0", "0.5", "1", "1e308", "-1e308", "x", ""]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@functools.cache
def _fixtures() -> dict[str, str]:
    """Paths of hostile input files, made once for the module."""
    base = Path(tempfile.mkdtemp(prefix="crisislab-fuzz-"))
    fifo = base / "fifo.yaml"
    if not fifo.exists():
        os.mkfifo(fifo)
    (base / "broken.yaml").write_text("a: [\n", encoding="utf-8")
    (base / "list.yaml").write_text("- follow: end\n", encoding="utf-8")
    (base / "markup[").mkdir()
    (base / "markup[/].yaml").write_text("[/]: [/]\n", encoding="utf-8")
    (base / "bad.efg").write_text('EFG 2 R "x" { "a" }\n[/]\n', encoding="utf-8")
    (base / "binary.json").write_bytes(b"\xff\xfe\x00")
    return {
        "fifo": str(fifo),
        "dir": str(base),
        "broken": str(base / "broken.yaml"),
        "list": str(base / "list.yaml"),
        "markup": str(base / "markup[/].yaml"),
        "efg": str(base / "bad.efg"),
        "binary": str(base / "binary.json"),
    }


INPUT_PATHS = [
    "/dev/zero",
    "/dev/null",
    "/proc/self/mem",
    "fifo",
    "dir",
    "broken",
    "list",
    "markup",
    "efg",
    "binary",
    "missing.yaml",
    "/nonexistent/[/].yaml",
    MINI,
]


def _path(name: str) -> str:
    return _fixtures().get(name, name)


input_paths = st.one_of(st.sampled_from(INPUT_PATHS).map(_path), text_values)
# where a command may write: relative names inside the isolated folder, or devices
output_paths = st.one_of(
    st.sampled_from(
        [
            "out.png",
            "out.svg",
            "out.bmp",
            "out.html",
            "out.efg",
            "out.md",
            "out.yaml",
            "/dev/null",
            "/proc/nope/out.png",
            "[/].png",
            "dir/x.png",
            ".",
            "",
        ]
    ),
    text_values.filter(lambda t: ".." not in t and not t.startswith("/")),
)
scenario_refs = st.one_of(st.just(MINI), st.sampled_from(INPUT_PATHS).map(_path), text_values)
db_urls = st.one_of(
    st.sampled_from(
        [
            "sqlite://",
            "sqlite:///x.db",
            "not a url",
            "nosuchdialect://x",
            "mysql://u:secret@127.0.0.1:1/x",
            "sqlite:///file:x.db?mode=ro&uri=true",
            "sqlite:////proc/[/]/x",
            "sqlite:///dir",
            "",
        ]
    ),
    text_values,
)
formats = st.sampled_from(["text", "json", "markdown", "html", "csv", "[/]", ""])
FLAG = st.just(None)

# ---- the commands ----------------------------------------------------------------------
# each: the command words, its positional arguments, cheap pinned options, and its options
# with the values to draw (FLAG: an option without a value)

COMMON_RUN = {
    "--agent": text_values,
    "--what-if": text_values,
    "--param": text_values,
    "--seed": int_values,
    "--workers": int_values,
    "--format": formats,
    "--backend": st.sampled_from(["local", "[/]", "ray2"]),
    "--quiet": FLAG,
    "--address": text_values,
}

COMMANDS: dict[str, tuple[list[str], list[Any], list[str], dict[str, Any], int]] = {
    "validate": (
        ["validate"],
        [scenario_refs],
        [],
        {"--deep": FLAG, "--time-limit": float_values},
        60,
    ),
    "new": (["new"], [text_values], [], {"--dir": input_paths}, 60),
    "replay": (
        ["replay"],
        [scenario_refs],
        ["--no-pager"],
        {
            "--format": formats,
            "--seed": int_values,
            "--from": text_values,
            "--to": text_values,
            "--actor": text_values,
            "--sources": FLAG,
            "--detail": FLAG,
            "--output": output_paths,
        },
        120,
    ),
    "sources": (
        ["sources", "check"],
        [scenario_refs],
        [],
        {
            "--sources": input_paths,
            "--threshold": float_values,
            "--verbose": FLAG,
        },
        60,
    ),
    "simulate": (
        ["simulate"],
        [scenario_refs],
        ["--runs", "1", "--workers", "1", "-q"],
        {
            **COMMON_RUN,
            "--runs": int_values,
            "--chunk-size": int_values,
            "--db": db_urls,
            "--no-store": FLAG,
            "--plot": output_paths,
            "--report": text_values,
            "--tolerance": float_values,
            "--params": input_paths,
        },
        200,
    ),
    "runs": (["runs"], [], [], {"--db": db_urls, "--limit": int_values, "--format": formats}, 80),
    "compare": (
        ["compare"],
        [scenario_refs],
        ["--runs", "1", "--workers", "1", "-q"],
        {
            **COMMON_RUN,
            "--runs": int_values,
            "--lineup": text_values,
            "--plot": output_paths,
        },
        120,
    ),
    "sensitivity": (
        ["sensitivity"],
        [scenario_refs],
        ["--runs-per-point", "1", "--workers", "1", "-q", "--samples", "1", "--only", "p_clash"],
        {
            **COMMON_RUN,
            "--runs-per-point": int_values,
            "--samples": int_values,
            "--method": st.sampled_from(["oat", "sobol", "both", "[/]"]),
            "--top": int_values,
            "--outcome": text_values,
            "--only": text_values,
            "--plot": output_paths,
        },
        100,
    ),
    "calibrate": (
        ["calibrate"],
        [scenario_refs],
        ["--runs", "1", "--workers", "1", "-q"],
        {
            **COMMON_RUN,
            "--runs": int_values,
            "--fit-runs": int_values,
            "--passes": int_values,
            "--only": text_values,
            "--write": output_paths,
            "--params": input_paths,
        },
        80,
    ),
    "fit": (
        ["fit"],
        [scenario_refs],
        ["--no-loo"],
        {
            "--format": formats,
            "--output": output_paths,
            "--loo": FLAG,
        },
        40,
    ),
    "what-ifs": (["what-ifs"], [scenario_refs], [], {"--format": formats}, 40),
    "play": (
        ["play"],
        [scenario_refs],
        ["--debrief-runs", "0", "--moves", "@list"],
        {
            "--as": text_values,
            "--agent": text_values,
            "--seed": int_values,
            "--chance": st.sampled_from(["free", "history", "[/]", ""]),
            "--from": text_values,
            "--resume": int_values,
            "--debrief-runs": int_values,
            "--html": output_paths,
            "--moves": input_paths,
            "--format": formats,
            "--db": db_urls,
        },
        150,
    ),
    "games": (["games"], [], [], {"--limit": int_values, "--db": db_urls}, 60),
    "debrief": (
        ["debrief"],
        [int_values],
        ["--runs", "0"],
        {
            "--html": output_paths,
            "--runs": int_values,
            "--stand-in": text_values,
            "--seed": int_values,
            "--format": formats,
            "--db": db_urls,
        },
        80,
    ),
    "gt-tree": (
        ["gt", "tree"],
        [scenario_refs],
        ["--depth", "1", "--horizon", "1", "--samples", "1"],
        {
            "--from": text_values,
            "--depth": int_values,
            "--horizon": int_values,
            "--choices": text_values,
            "--players": text_values,
            "--samples": int_values,
            "--seed": int_values,
            "--chance-min": float_values,
            "--efg": output_paths,
            "--format": formats,
        },
        100,
    ),
    "gt-solve": (
        ["gt", "solve"],
        [input_paths],
        ["--depth", "1", "--horizon", "1", "--samples", "1"],
        {
            "--method": st.sampled_from(
                ["auto", "enumpure", "lcp", "lp", "logit", "spe", "cfr", "[/]", ""]
            ),
            "--iterations": int_values,
            "--limit": int_values,
            "--all": FLAG,
            "--force": FLAG,
            "--format": formats,
            "--from": text_values,
            "--players": text_values,
        },
        100,
    ),
    "gt-model": (
        ["gt", "model"],
        [
            st.one_of(
                st.sampled_from(["chicken", "prisoners_dilemma", "brinkmanship", "zagare"]),
                text_values,
            )
        ],
        [],
        {
            "--param": text_values,
            "--format": formats,
            "--plot": output_paths,
            "--efg": output_paths,
            "--no-check": FLAG,
        },
        80,
    ),
}


@st.composite
def command_lines(draw: Any, name: str) -> list[str]:
    words, positionals, pinned, options, _ = COMMANDS[name]
    argv = [
        *words,
        *(draw(p) for p in positionals),
        *(_path(x[1:]) if x.startswith("@") else x for x in pinned),
    ]
    if options:
        chosen = draw(st.lists(st.sampled_from(sorted(options)), max_size=4))
        for opt in chosen:
            argv.append(opt)
            value = options[opt]
            if value is not FLAG:
                argv.append(draw(value))
    return argv


@functools.cache
def _cached_load(ref: str) -> Any:
    return load_scenario(ref)


@pytest.fixture(scope="module")
def cheap_loading() -> Iterator[None]:
    """Load each scenario once for the module: the fuzzing is of the command lines, and a
    scenario file is never changed between examples."""
    patch = pytest.MonkeyPatch()

    def load(ref: Any) -> Any:
        if isinstance(ref, str) and ref == MINI:
            return _cached_load(ref)
        return load_scenario(ref)

    patch.setattr("crisislab.scenario.loader.load_scenario", load)
    yield
    patch.undo()


def invoke(argv: list[str], env: dict[str, str]) -> Any:
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:  # whatever a command writes lands here
        os.chdir(folder)
        try:
            result = CliRunner().invoke(app, argv, env=env)
        finally:
            os.chdir(here)
    output = result.output
    where = f"crisislab {' '.join(repr(a) for a in argv)}"
    assert "Traceback" not in output, f"{where}\n{output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{where}: {result.exception!r}"
    )
    assert result.exit_code in DOCUMENTED_EXITS, f"{where} exited {result.exit_code}\n{output}"
    assert "internal error" not in output, f"{where}\n{output}"
    return result


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("fuzz")
    return {"CRISISLAB_DB": str(folder / "fuzz.db"), "COLUMNS": "120", "TERM": "dumb"}


def _fuzz(name: str) -> Any:
    examples = COMMANDS[name][4]

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(argv=command_lines(name))
    def check(argv: list[str], env: dict[str, str], cheap_loading: None) -> None:
        invoke(argv, env)

    return check


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_command_line_ends_in_a_traceback(
    name: str, env: dict[str, str], cheap_loading: None
) -> None:
    _fuzz(name)(env=env, cheap_loading=cheap_loading)


@pytest.mark.parametrize("word", ["version", "scenarios", "schema"])
def test_commands_without_options_refuse_extra_words(word: str, env: dict[str, str]) -> None:
    result = invoke([word, "[/]"], env)
    assert result.exit_code == 2


# ---- stored rows ------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | text_values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text_values, inner, max_size=3),
    max_leaves=8,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@pytest.fixture(scope="module")
def stored(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str], cheap_loading: None
) -> Path:
    """A database with one played game and one simulation run, to be damaged."""
    folder = tmp_path_factory.mktemp("rows")
    path = folder / "clean.db"
    moves = folder / "moves.yaml"
    moves.write_text("- follow: 1962-10-02\n- choose: blue_wait\n- follow: end\n", encoding="utf-8")
    here = {**env, "CRISISLAB_DB": str(path)}
    assert (
        invoke(
            ["play", MINI, "--as", "blue", "--moves", str(moves), "--debrief-runs", "0"], here
        ).exit_code
        == 0
    )
    assert invoke(["simulate", MINI, "--runs", "1", "--workers", "1", "-q"], here).exit_code == 0
    return path


COLUMNS = {
    "games": ["log", "letters", "seats"],
    "runs": ["results", "agents", "what_ifs", "parameters"],
}


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_damaged_rows_never_break_a_command(
    data: st.DataObject, stored: Path, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]
) -> None:
    table = data.draw(st.sampled_from(sorted(COLUMNS)))
    column = data.draw(st.sampled_from(COLUMNS[table]))
    path = tmp_path_factory.mktemp("damaged") / "db.sqlite"
    path.write_bytes(stored.read_bytes())
    con = sqlite3.connect(path)
    (raw,) = con.execute(f"select {column} from {table} where id = 1").fetchone()
    doc = json.loads(raw)
    spot = data.draw(st.sampled_from(_paths(doc)))
    delete = bool(spot) and data.draw(st.booleans())
    doc = _set(doc, spot, None if delete else data.draw(json_values), delete)
    text = json.dumps(doc) if data.draw(st.integers(0, 9)) else "{not json"
    con.execute(f"update {table} set {column} = ? where id = 1", (text,))
    con.commit()
    con.close()
    here = {**env, "CRISISLAB_DB": str(path)}
    if table == "games":
        assert invoke(["games"], here).exit_code == 0
        invoke(["debrief", "1", "--runs", "0"], here)
        invoke(["debrief", "1", "--runs", "0", "--format", "json"], here)
    else:
        assert invoke(["runs"], here).exit_code == 0
        assert invoke(["runs", "--format", "json"], here).exit_code == 0
