"""Reading YAML strictly: timestamps stay text so a missing UTC offset is caught, not guessed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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


def parse_yaml(text: str, source: str) -> Any:  # noqa: ANN401 - YAML is any shape until validated
    try:
        return yaml.load(text, Loader=_TextTimestampLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError(f"{source}:{where}: not valid YAML: {problem}") from None


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
