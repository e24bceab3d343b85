"""Reading YAML strictly: timestamps stay text so a missing UTC offset is caught, not guessed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml


class _TextTimestampLoader(yaml.SafeLoader):
    """PyYAML would turn `2021-04-01T00:00` into a naive datetime; we keep it a string."""


_TextTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _no_duplicate_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"key '{key}' appears twice", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_TextTimestampLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys
)


class SourceError(ValueError):
    """A data file that cannot be read: the message names the file, the place and the problem."""


# The values a candidate rules file may stand for once its aliases are expanded (parse_yaml's
# `max_values`). The packaged rules hold under a thousand; a file whose aliases nest (a
# "billion laughs") is refused before anything walks the expanded tree, which would take
# minutes of a server's worker (a candidate uploaded on the console).
MAX_EXPANDED_VALUES: Final = 200_000


def parse_yaml(text: str, source: str, *, max_values: int | None = None) -> Any:  # noqa: ANN401 - YAML is any shape until validated
    try:
        data = yaml.load(text, Loader=_TextTimestampLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(f"{source}:{where}: not valid YAML: {problem}") from None
    if max_values is not None and _expanded_size(data, {}) > max_values:
        msg = (
            f"{source}: its aliases (*name) expand to more than {max_values:,} values; "
            "write the values out instead"
        )
        raise SourceError(msg)
    return data


def _expanded_size(value: Any, known: dict[int, int]) -> int:  # noqa: ANN401 - parsed YAML
    """How many values `value` stands for with its aliases expanded, each shared container
    counted once per reference but visited once (`known`: sizes by id)."""
    if not isinstance(value, (dict, list)):
        return 1
    found = known.get(id(value))
    if found is None:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        found = 1 + sum(_expanded_size(item, known) for _, item in items)
        known[id(value)] = found
    return found


@dataclass(frozen=True)
class KeyLines:
    """Where each key and list item of a YAML text starts, so an error about
    `measures.phase1.rate_percent` can say which line of the file to look at."""

    lines: Mapping[tuple[int | str, ...], int]  # location -> line (1-based)

    @classmethod
    def of(cls, text: str) -> KeyLines:
        """The locations in `text`, which must parse (parse_yaml first)."""
        lines: dict[tuple[int | str, ...], int] = {}
        root = yaml.compose(text, Loader=_TextTimestampLoader)
        if root is not None:
            _walk(root, (), lines)
        return cls(lines)

    def line_of(self, location: tuple[int | str, ...]) -> int | None:
        """The line of the key or item at `location`; None when the text does not have it
        (e.g. a key a candidate left to the rules it extends)."""
        if location and location[-1] == "[key]":  # pydantic's mark for a bad mapping key
            location = location[:-1]
        return self.lines.get(tuple(p if isinstance(p, int) else str(p) for p in location))


# Aliases repeat a node under another key: a text can name far more locations than it has
# lines, or nest itself without end. Past these, the rest go without a line number.
_MOST_LOCATIONS = 100_000
_DEEPEST = 32


def _walk(
    node: yaml.Node, where: tuple[int | str, ...], lines: dict[tuple[int | str, ...], int]
) -> None:
    children: list[tuple[int | str, yaml.Node, int]] = []
    if len(where) >= _DEEPEST:
        return
    if isinstance(node, yaml.MappingNode):
        children = [
            (str(key.value), value, key.start_mark.line + 1)
            for key, value in node.value
            if isinstance(key, yaml.ScalarNode)
        ]
    elif isinstance(node, yaml.SequenceNode):
        children = [(i, item, item.start_mark.line + 1) for i, item in enumerate(node.value)]
    for part, child, line in children:
        if len(lines) >= _MOST_LOCATIONS:
            return
        here = (*where, part)
        lines.setdefault(here, line)
        _walk(child, here, lines)


def read_yaml(path: Path) -> Any:  # noqa: ANN401 - YAML is any shape until validated
    return parse_yaml(path.read_text(encoding="utf-8"), path.name)


_INDEX = re.compile(r"^\d+$")


def dotted(location: tuple[int | str, ...]) -> str:
    """('events', 2, 'at') -> 'events[2].at'."""
    out = ""
    for part in location:
        if isinstance(part, int) or _INDEX.match(str(part)):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"
