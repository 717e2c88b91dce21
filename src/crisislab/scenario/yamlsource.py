"""Reading a scenario's YAML safely, keeping the line and column of every value.

PyYAML's safe composer gives a node tree with positions; we build plain data from it
ourselves so that each value's position can be looked up by its field path, duplicate
keys are caught (plain YAML loading keeps the last silently), and aliases cannot expand
into a "billion laughs" bomb. Only the plain YAML types are read: a tag such as
``!!python/object`` is refused, never constructed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.reader import ReaderError

from crisislab.scenario.problems import Problem, ScenarioError, format_path

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
Path_ = tuple[str | int, ...]

_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_COLLECTION_TAGS = {_YAML_TAG + "map", _YAML_TAG + "seq"}
_SCALAR_TAGS = {
    _YAML_TAG + t for t in ("null", "bool", "int", "float", "str", "timestamp")
}  # never !!binary:
# bytes decoded from base64 would hide a rule's text from the reader of the file
_LINE_BREAKS = "\n\x85\u2028\u2029"


class _TooManyNodes(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


def _too_many(file: str, err: _TooManyNodes) -> ScenarioError:
    """The problem of a document with more values than the node limit, where it crossed."""
    return ScenarioError(
        [
            Problem(
                file,
                err.mark.line + 1,
                err.mark.column + 1,
                "",
                f"the document holds more than {MAX_NODES:,} values, more than a scenario needs",
                "split the scenario or remove what it does not need",
            )
        ]
    )


class _CountingLoader(yaml.SafeLoader):
    """The safe loader, stopped as soon as the document holds more than ``MAX_NODES``
    values: a huge list is refused while it is read, not after it is built."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooManyNodes(self.peek_event().start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Scalar:
    """Where a scalar's text sits in the file, to place a column inside the value."""

    value: str
    start: int  # index into the file's text
    end: int
    line: int  # 0-based, as PyYAML counts
    column: int
    style: str | None


@dataclass
class YamlDocument:
    """Plain data plus the position of every key and value by field path."""

    data: Any
    file: str
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    text: str = ""
    scalars: dict[Path_, _Scalar] = field(default_factory=dict)

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

    def problem(
        self,
        path: Sequence[str | int],
        message: str,
        hint: str = "",
        key: bool = False,
        column_offset: int | None = None,
    ) -> Problem:
        """A problem at the value at ``path``; ``column_offset`` places it on a character
        of that value's text (an expression's offending token), wherever the value's
        lines are in the file."""
        pos = self.where(path, key=key)
        if column_offset is not None:
            pos = self.inside(tuple(path), column_offset) or pos
        line, col = pos if pos else (None, None)
        return Problem(self.file, line, col, format_path(path), message, hint)

    def inside(self, path: Path_, offset: int) -> tuple[int, int] | None:
        """Line and column of character ``offset`` of the scalar at ``path``: its
        characters are matched in order against the file's text, skipping quotes, escapes,
        indentation and folded line breaks. None if they cannot be matched."""
        scalar = self.scalars.get(path)
        if scalar is None or not 0 <= offset <= len(scalar.value):
            return None
        raw = self.text[scalar.start : scalar.end]
        if scalar.style in ("'", '"'):
            j = 1
        elif scalar.style in ("|", ">"):
            j = next((i + 1 for i, ch in enumerate(raw) if ch in _LINE_BREAKS + "\r"), len(raw))
        else:
            j = 0
        k = j
        for ch in scalar.value[: offset + 1]:
            k = raw.find(ch, j)
            if k < 0:
                return None
            j = k + 1
        if offset == len(scalar.value):  # just past the end: the end of the value
            k = min(j, len(raw))
        line, col = scalar.line, scalar.column
        for i, ch in enumerate(raw[:k]):
            if ch == "\r" and raw[i + 1 : i + 2] == "\n":
                continue
            if ch in _LINE_BREAKS or ch == "\r":
                line, col = line + 1, 0
            else:
                col += 1
        return line + 1, col + 1


def read_yaml(text: str, file: str) -> YamlDocument:
    """Parse ``text`` into a :class:`YamlDocument`, or raise :class:`ScenarioError`."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        raise ScenarioError(
            [
                Problem(
                    file,
                    None,
                    None,
                    "",
                    f"the file is {size:,} bytes, more than the {MAX_BYTES:,} a scenario may be",
                    "split the scenario or remove what it does not need",
                )
            ]
        )
    _count_fast(text, file)
    loader: yaml.SafeLoader | None = None
    try:
        loader = _CountingLoader(text)
        node = loader.get_single_node()
    except _TooManyNodes as err:
        raise _too_many(file, err) from None
    except ReaderError as err:
        line, col = _line_col(text, err.position)
        code = err.character if isinstance(err.character, int) else ord(err.character[:1] or " ")
        raise ScenarioError(
            [
                Problem(
                    file,
                    line,
                    col,
                    "",
                    f"the character U+{code:04X} is not allowed in a YAML file",
                    "remove it, or write it as an escape such as \\t inside double quotes",
                )
            ]
        ) from None
    except yaml.MarkedYAMLError as err:
        raise ScenarioError([_broken(err, file)]) from None
    except yaml.YAMLError as err:
        raise ScenarioError(
            [
                Problem(
                    file,
                    None,
                    None,
                    "",
                    f"broken YAML: {' '.join(str(err).split())}",
                    "check indentation, colons and quotes",
                )
            ]
        ) from None
    except RecursionError:
        raise ScenarioError([_too_deep(text, file)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise ScenarioError(
            [
                Problem(
                    file,
                    1,
                    1,
                    "",
                    "the document is empty",
                    "a scenario is a mapping with `scenario`, `clock`, `actors`, ... at the top",
                )
            ]
        )
    if not isinstance(node, yaml.MappingNode):
        raise ScenarioError(
            [
                Problem(
                    file,
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                    "",
                    "the document is not a mapping of keys to values",
                    "a scenario starts with keys such as `scenario:` and `actors:`",
                )
            ]
        )
    assert loader is not None
    doc = YamlDocument(None, file, text=text)
    problems: list[Problem] = []
    try:
        _check_size(node, file)
        doc.data = _build(node, (), doc, loader, problems)
    except RecursionError:
        raise ScenarioError([_too_deep(text, file)]) from None
    if problems:
        raise ScenarioError(problems)
    return doc


def _count_fast(text: str, file: str) -> None:
    """Count the document's values with libyaml's parser, when PyYAML has it, so that a
    huge document is refused in a second or two, before the slower composer that keeps
    positions runs. Syntax errors are left to that composer, which words them."""
    if not getattr(yaml, "__with_libyaml__", False):
        return
    nodes = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise _TooManyNodes(event.start_mark)
    except yaml.YAMLError:
        return
    except _TooManyNodes as err:
        raise _too_many(file, err) from None


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``."""
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _broken(err: yaml.MarkedYAMLError, file: str) -> Problem:
    """A YAML syntax error, on one line: what went wrong, where, and what was open."""
    mark = err.problem_mark or err.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
    context = err.context or ""
    if context.startswith("expected a single document"):
        return Problem(
            file,
            line,
            col,
            "",
            "the file holds more than one YAML document",
            "a scenario is one document: remove this `---` and what follows, "
            "or merge the documents",
        )
    what = err.problem or context or "the YAML does not parse"
    hint = "check indentation, colons and quotes at this place"
    if err.problem and context and err.context_mark:
        opened = (err.context_mark.line + 1, err.context_mark.column + 1)
        what += f" ({context} that starts at line {opened[0]}, column {opened[1]})"
        if "quoted scalar" in context:
            hint = f"close the quote opened at line {opened[0]}, column {opened[1]}"
    return Problem(file, line, col, "", f"broken YAML: {what}", hint)


def _too_deep(text: str, file: str) -> Problem:
    """Where the nesting of a document too deep to read passes a sane depth."""
    depth, line, col = 0, None, None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(
                token,
                yaml.FlowSequenceStartToken
                | yaml.FlowMappingStartToken
                | yaml.BlockSequenceStartToken
                | yaml.BlockMappingStartToken,
            ):
                depth += 1
                if depth > 100:
                    line, col = token.start_mark.line + 1, token.start_mark.column + 1
                    break
            elif isinstance(
                token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken | yaml.BlockEndToken
            ):
                depth -= 1
    except (yaml.YAMLError, RecursionError):
        pass
    return Problem(
        file,
        line,
        col,
        "",
        "the YAML nests too deeply to be a scenario",
        "a scenario needs only a few levels of lists and mappings",
    )


def _check_size(root: yaml.Node, file: str) -> None:
    """Refuse alias cycles and documents whose aliases expand past ``MAX_NODES``."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ScenarioError(
                [
                    Problem(
                        file,
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                        "",
                        "a YAML alias refers to itself",
                        "remove the recursive anchor",
                    )
                ]
            )
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v) for v in node.value)
        active.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise ScenarioError(
                [
                    Problem(
                        file,
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                        "",
                        f"YAML aliases expand this document past {MAX_NODES:,} values "
                        "(an alias bomb)",
                        "write the values out instead of nesting anchors and aliases",
                    )
                ]
            )
        return total

    size(root)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else tag


def _scalar(
    node: yaml.ScalarNode,
    path: Path_,
    doc: YamlDocument,
    loader: yaml.SafeLoader,
    problems: list[Problem],
    what: str,
) -> tuple[bool, Any]:
    """Construct a plain scalar (a key or a value); on failure record a problem."""
    where = (doc.file, node.start_mark.line + 1, node.start_mark.column + 1, format_path(path))
    if node.tag not in _SCALAR_TAGS:
        problems.append(
            Problem(
                *where,
                f"the YAML tag '{_short_tag(node.tag)}' is not allowed",
                f"remove the tag; write {what} as plain text, a number, true/false or a date",
            )
        )
        return False, None
    try:
        return True, loader.construct_object(node)
    except yaml.MarkedYAMLError as err:
        reason = err.problem or err.context or "it does not read as its type"
    except (yaml.YAMLError, ValueError, OverflowError) as err:
        reason = " ".join(str(err).split())
    hint = (
        "write a date as YYYY-MM-DD"
        if node.tag == _YAML_TAG + "timestamp"
        else "quote it if it is text"
    )
    problems.append(Problem(*where, f"cannot read {what}: {reason}", hint))
    return False, None


def _build(
    node: yaml.Node,
    path: Path_,
    doc: YamlDocument,
    loader: yaml.SafeLoader,
    problems: list[Problem],
) -> Any:
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    doc.positions.setdefault(
        path, (node.start_mark.line + 1, node.start_mark.column + 1 + int(quoted))
    )
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and (
        node.tag not in _PLAIN_COLLECTION_TAGS
    ):
        problems.append(
            Problem(
                doc.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                format_path(path),
                f"the YAML tag '{_short_tag(node.tag)}' is not allowed",
                "remove the tag; a scenario uses plain lists and mappings",
            )
        )
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    Problem(
                        doc.file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        format_path(path),
                        "YAML merge keys (<<) are not supported",
                        "write the keys out",
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(
                        doc.file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        format_path(path),
                        "a key must be a plain name, not a list or a mapping",
                        "write the key as a name such as `id`",
                    )
                )
                continue
            ok, key = _scalar(key_node, path, doc, loader, problems, "this key")
            if not ok:
                continue
            key = key if isinstance(key, str) else str(key)
            child = (*path, key)
            if key in out:
                problems.append(
                    Problem(
                        doc.file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        format_path(child),
                        f"the key '{key}' appears twice in this mapping",
                        "keep one of them",
                    )
                )
                continue
            doc.key_positions[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            out[key] = _build(value_node, child, doc, loader, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, (*path, i), doc, loader, problems) for i, v in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    if path not in doc.scalars:
        doc.scalars[path] = _Scalar(
            node.value,
            node.start_mark.index,
            node.end_mark.index,
            node.start_mark.line,
            node.start_mark.column,
            node.style,
        )
    return _scalar(node, path, doc, loader, problems, "this value")[1]
