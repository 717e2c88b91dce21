"""Reading a scenario's YAML safely, keeping the line and column of every value.

PyYAML's safe composer gives a node tree with positions; we build plain data from it
ourselves so that each value's position can be looked up by its field path, duplicate
keys are caught (plain YAML loading keeps the last silently), and aliases cannot expand
into a "billion laughs" bomb.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from crisislab.scenario.problems import Problem, ScenarioError, format_path

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
Path_ = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """Plain data plus the position of every key and value by field path."""

    data: Any
    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Sequence[str | int], key: bool = False) -> tuple[int, int] | None:
        """Line and column (1-based) of the value at ``path``, or of its nearest parent."""
        p = tuple(path)
        while True:
            table = self.key_positions if key and p in self.key_positions else self.positions
            if p in table:
                return table[p]
            if not p:
                return None
            p = p[:-1]
            key = False

    def problem(self, path: Sequence[str | int], message: str, hint: str = "",
                key: bool = False, column_offset: int | None = None) -> Problem:
        pos = self.where(path, key=key)
        line, col = (pos if pos else (None, None))
        if col is not None and column_offset is not None:
            col += column_offset
        return Problem(self.file, line, col, format_path(path), message, hint)


def read_yaml(text: str, file: str) -> YamlDocument:
    """Parse ``text`` into a :class:`YamlDocument`, or raise :class:`ScenarioError`."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        raise ScenarioError([Problem(
            file, None, None, "",
            f"the file is {size:,} bytes, more than the {MAX_BYTES:,} a scenario may be",
            "split the scenario or remove what it does not need",
        )])
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = err.problem or err.context or "the YAML does not parse"
        raise ScenarioError([Problem(
            file, line, col, "", f"broken YAML: {what}",
            "check indentation, colons and quotes at this place",
        )]) from None
    except yaml.YAMLError as err:
        raise ScenarioError([Problem(file, None, None, "", f"broken YAML: {err}", "")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise ScenarioError([Problem(
            file, 1, 1, "", "the document is empty",
            "a scenario is a mapping with `scenario`, `clock`, `actors`, ... at the top",
        )])
    if not isinstance(node, yaml.MappingNode):
        raise ScenarioError([Problem(
            file, node.start_mark.line + 1, node.start_mark.column + 1, "",
            "the document is not a mapping of keys to values",
            "a scenario starts with keys such as `scenario:` and `actors:`",
        )])
    _check_size(node, file)
    doc = YamlDocument(None, file)
    problems: list[Problem] = []
    doc.data = _build(node, (), doc, loader, problems)
    if problems:
        raise ScenarioError(problems)
    return doc


def _check_size(root: yaml.Node, file: str) -> None:
    """Refuse alias cycles and documents whose aliases expand past ``MAX_NODES``."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ScenarioError([Problem(
                file, node.start_mark.line + 1, node.start_mark.column + 1, "",
                "a YAML alias refers to itself", "remove the recursive anchor",
            )])
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v) for v in node.value)
        active.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise ScenarioError([Problem(
                file, node.start_mark.line + 1, node.start_mark.column + 1, "",
                f"YAML aliases expand this document past {MAX_NODES:,} values "
                "(an alias bomb)",
                "write the values out instead of nesting anchors and aliases",
            )])
        return total

    size(root)


def _build(node: yaml.Node, path: Path_, doc: YamlDocument, loader: yaml.SafeLoader,
           problems: list[Problem]) -> Any:
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    doc.positions.setdefault(
        path, (node.start_mark.line + 1, node.start_mark.column + 1 + int(quoted))
    )
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(
                    doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                    format_path(path), "YAML merge keys (<<) are not supported",
                    "write the keys out",
                ))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(
                    doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                    format_path(path), "a key must be a plain name", "",
                ))
                continue
            key = loader.construct_object(key_node)
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            if key in out:
                problems.append(Problem(
                    doc.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                    format_path(child), f"the key '{key}' appears twice in this mapping",
                    "keep one of them",
                ))
                continue
            doc.key_positions[child] = (key_node.start_mark.line + 1,
                                        key_node.start_mark.column + 1)
            out[key] = _build(value_node, child, doc, loader, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*path, i), doc, loader, problems) for i, v in enumerate(node.value)]
    try:
        return loader.construct_object(node)
    except yaml.YAMLError as err:
        problems.append(Problem(
            doc.file, node.start_mark.line + 1, node.start_mark.column + 1,
            format_path(path), f"cannot read this value: {err}", "quote it",
        ))
        return None
