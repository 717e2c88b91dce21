"""The layers of docs/architecture.md, checked on the source: no module imports from a
layer above its own, no modules import each other in a circle, only the one loop steps
the engine, and nothing outside the engine reads an observation's private parts
("How the layers are checked"). A module that a lower one must reach is named by its
path and imported when asked for, as the agent registry names the agents that live
higher up."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "crisislab"
LAYERS = ("scenario", "engine", "agents", "runner", "analyses", "interfaces")
BESIDE = {
    "crisislab",
    "crisislab.errors",
    "crisislab.extras",
    "crisislab.files",
    "crisislab.records",
    "crisislab.store",
    "crisislab.starter",
}
# and among themselves they import one way too, each only from those before it: the
# store raises errors.py's errors, and errors.py, which reports them, imports no store
BESIDE_ORDER = (
    "crisislab",
    "crisislab.files",
    "crisislab.extras",
    "crisislab.records",
    "crisislab.errors",
    "crisislab.store",
    "crisislab.starter",
)


def layer(module: str) -> str | None:
    """The layer of a module (None for the modules beside the layers)."""
    parts = module.split(".")
    last = parts[-1]
    if module in BESIDE or module.startswith(("crisislab.migrations", "crisislab.scenarios")):
        return None
    if (
        module.startswith(("crisislab.cli", "crisislab.web"))
        or last == "cli"
        or last.endswith("_cli")
    ):
        return "interfaces"
    if module.startswith("crisislab.scenario.") or module in (
        "crisislab.scenario",
        "crisislab.sources",
    ):
        return "scenario"
    if module == "crisislab.runner":
        return "runner"
    if module.startswith("crisislab.engine"):
        return "engine"
    if module.startswith("crisislab.agents"):
        return "agents"
    return "analyses"


def modules() -> dict[str, Path]:
    out = {}
    for f in SRC.rglob("*.py"):
        name = ".".join(("crisislab", *f.relative_to(SRC).with_suffix("").parts))
        out[name.removesuffix(".__init__")] = f
    return out


def imports() -> dict[str, set[str]]:
    """Every ``from crisislab... import`` of every module, at module level or inside a
    function: importer -> the modules it imports (a package's module when one is named)."""
    found = modules()
    graph: dict[str, set[str]] = {name: set() for name in found}
    for name, path in found.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("crisislab")
            ):
                targets = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t for t in targets if t in found] or [node.module]
                for t in targets:
                    if t in found and t != name:
                        graph[name].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_place() -> None:
    placed = {m: layer(m) for m in modules()}
    assert placed["crisislab.engine.engine"] == "engine"
    assert placed["crisislab.runner"] == "runner"
    assert placed["crisislab.engine.loop"] == "engine"
    assert placed["crisislab.rl"] == "analyses" and placed["crisislab.testing"] == "analyses"
    assert placed["crisislab.cli"] == "interfaces" and placed["crisislab.cli.gt"] == "interfaces"
    assert placed["crisislab.scenario.canonical"] == "scenario"
    assert set(placed.values()) == {*LAYERS, None}


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The imports from a layer above the importer's own."""
    out = set()
    for a, b in ((a, b) for a, targets in graph.items() for b in targets):
        la, lb = layer(a), layer(b)
        if la is not None and lb is not None and LAYERS.index(lb) > LAYERS.index(la):
            out.add((a, b))
    return sorted(out)


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    # the check sees an agent that imports the game tree
    assert upward({"crisislab.agents.x": {"crisislab.gt.tree", "crisislab.engine.state"}}) == [
        ("crisislab.agents.x", "crisislab.gt.tree")
    ]
    assert upward(imports()) == []


def test_the_registry_names_the_agents_that_live_higher_up_by_their_path() -> None:
    """The agents of the game tree and of the RL environment live with what they play;
    the registry imports them only when one is asked for, and names real modules."""
    from crisislab.agents.registry import AGENTS

    found = modules()
    where = {name: path.split(":")[0] for name, path in AGENTS.items()}
    assert all(module in found for module in where.values()), where
    assert layer(where["equilibrium"]) == layer(where["policy"]) == "analyses"
    assert where["equilibrium"].startswith("crisislab.gt.")
    assert not any(t.startswith("crisislab.gt") for t in imports()["crisislab.agents.registry"])


def test_the_modules_beside_the_layers_import_one_way() -> None:
    graph = imports()
    assert set(BESIDE_ORDER) == BESIDE
    for i, m in enumerate(BESIDE_ORDER):
        assert graph[m] & BESIDE <= set(BESIDE_ORDER[:i]), (m, sorted(graph[m] & BESIDE))
    assert "crisislab.errors" in graph["crisislab.store"]


def test_below_the_analyses_nothing_reaches_the_database() -> None:
    """The agents (the language-model leader's cache of replies included) and the layers
    under them are handed what they keep; the database's modules sit above them."""
    graph = imports()
    database = {"crisislab.store", "crisislab.llm_store"}
    assert database <= set(graph)
    assert "crisislab.agents.llm_cache" in graph["crisislab.llm_store"]
    for m, targets in graph.items():
        if layer(m) in ("scenario", "engine", "agents", "runner"):
            assert not targets & database, (m, sorted(targets & database))
            assert not any(t.startswith("crisislab.migrations") for t in targets), m


def test_the_engine_imports_no_agent_and_no_layer_above() -> None:
    graph = imports()
    engine = {m for m in graph if layer(m) == "engine"}
    assert {"crisislab.engine.engine", "crisislab.engine.observation"} <= engine
    for m in engine:
        assert all(layer(t) in (None, "scenario", "engine") for t in graph[m]), m
    # the engine's package holds the one loop, which knows seats only by what they do;
    # the fast-forward along the record is the runner's, which imports the agents
    assert "crisislab.engine.loop" in engine
    assert not any(t.startswith("crisislab.agents") for m in engine for t in graph[m])
    assert "crisislab.agents.historical" in graph["crisislab.runner"]
    assert not any(m in c for c in cycles(graph) for m in engine)


def test_the_command_line_is_one_package_its_modules_importing_downward() -> None:
    graph = imports()
    commands = {m for m in graph if m.startswith("crisislab.cli.")}
    assert {"crisislab.cli.common", "crisislab.cli.analysis", "crisislab.cli.whatifs"} <= commands
    # no module of the command line outside cli/ (the web app's serve aside), and
    # nothing below the interfaces imports the command line
    assert {m for m in graph if layer(m) == "interfaces"} - commands - {"crisislab.cli"} == {
        m for m in graph if m.startswith("crisislab.web")
    }
    for m, targets in graph.items():
        if layer(m) != "interfaces":
            assert not any(t.startswith("crisislab.cli") for t in targets), m
    # the shared helpers import no command module
    assert not any(t.startswith("crisislab.cli") for t in graph["crisislab.cli.common"])


def test_no_import_cycles() -> None:
    # the check sees a cycle where there is one
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert [sorted(c) for c in cycles(imports())] == []


def engine_steppers(sources: dict[str, str]) -> set[str]:
    """The modules that call ``.step(state, choices, ...)``: an engine's step (the
    learning environments' ``step(actions)`` takes one argument)."""
    out = set()
    for name, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "step"
                and len(node.args) >= 2
            ):
                out.add(name)
    return out


def test_only_the_loop_steps_the_engine() -> None:
    """One observe-act-step loop: every play-out, the agents that replay the record or
    look ahead included, steps the engine through engine/loop.py."""
    sources = {name: path.read_text(encoding="utf-8") for name, path in modules().items()}
    assert engine_steppers(sources) == {"crisislab.engine.loop"}
    # the check sees a loop of its own, and passes the environments' step(actions)
    assert engine_steppers({"m": "while not s.done.all():\n    engine.step(s, c)\n"}) == {"m"}
    assert engine_steppers({"m": "obs, r, t, u, i = env.step(actions)\n"}) == set()


PRIVATE = {"_state", "_engine", "_env", "_fast"}


def private_readers(sources: dict[str, str]) -> set[str]:
    """The modules that read an observation's private parts (``x._state`` and the like
    on anything but ``self``)."""
    out = set()
    for name, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in PRIVATE
                and not (isinstance(node.value, ast.Name) and node.value.id == "self")
            ):
                out.add(name)
    return out


def test_no_module_outside_the_engine_reads_an_observations_private_parts() -> None:
    """An agent sees what its actor may know through the observation's public methods;
    a planner starts from ``Observation.belief``, not from the true state."""
    sources = {name: path.read_text(encoding="utf-8") for name, path in modules().items()}
    readers = private_readers(sources)
    assert {m for m in readers if layer(m) != "engine"} == set()
    # the check sees an agent that reads the true state
    assert private_readers({"m": "def act(self, obs):\n    return obs._state.values\n"}) == {"m"}
