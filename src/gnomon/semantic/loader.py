"""YAML → SemanticModel, keeping the file and line of every key for issue messages.

Two input forms: Omni-style named files (``orders.view``, ``revenue.topic``, ``relationships``,
``model``) and one combined document. Both report every structural problem at once; with
``check=True`` (the default) the semantic rules of :mod:`gnomon.semantic.validate` run too, so a
caller gets the complete list in a single :class:`~gnomon.errors.Invalid`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypeVar, cast

import yaml
from pydantic import BaseModel, ValidationError

from gnomon.errors import Invalid, Issue
from gnomon.semantic.expressions import summarise
from gnomon.semantic.model import (
    Loc,
    ModelSettings,
    Relationship,
    SemanticModel,
    Topic,
    View,
)
from gnomon.util import LruCache

_SUFFIXES = (".yaml", ".yml")
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SETTINGS_KEYS = frozenset(ModelSettings.model_fields) | {"topics"}


def _strip_suffix(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    for suffix in _SUFFIXES:
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def _file_kind(name: str) -> tuple[str, str] | None:
    """``("view", "orders")`` for ``orders.view.yaml``; None for an unknown kind."""
    base = _strip_suffix(name)
    for kind in ("view", "topic"):
        if base.endswith("." + kind) and len(base) > len(kind) + 1:
            return kind, base[: -len(kind) - 1]
    if base in ("relationships", "model"):
        return base, base
    return None


class _Collector:
    """Gathers issues and locations while the model is assembled."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.locations: dict[str, Loc] = {}

    def add(
        self,
        message: str,
        path: tuple[str | int, ...],
        *,
        code: str,
        hint: str | None = None,
        file: str | None = None,
    ) -> None:
        loc = self._find(path)
        self.issues.append(
            Issue(
                message=message,
                path=path,
                code=code,
                hint=hint,
                file=file if file is not None else loc.file,
                line=loc.line,
            )
        )

    def _find(self, path: tuple[str | int, ...]) -> Loc:
        parts = [str(p) for p in path]
        while parts:
            found = self.locations.get("/".join(parts))
            if found is not None:
                return found
            parts.pop()
        return Loc()


def _walk_marks(
    node: yaml.Node,
    path: tuple[str | int, ...],
    file: str,
    out: _Collector,
) -> None:
    """Record the line of every mapping key / list item and flag duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            sub = (*path, key)
            out.locations["/".join(str(p) for p in sub)] = Loc(
                file=file, line=key_node.start_mark.line + 1
            )
            if key in seen:
                out.add(
                    f"'{key}' is defined twice",
                    sub,
                    code="duplicate_name",
                    hint="Remove or rename one of the two definitions.",
                )
            seen.add(key)
            _walk_marks(value_node, sub, file, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            out.locations["/".join(str(p) for p in sub)] = Loc(
                file=file, line=item.start_mark.line + 1
            )
            _walk_marks(item, sub, file, out)


def _parse_yaml(file: str, text: str, prefix: tuple[str | int, ...], out: _Collector) -> Any | None:
    # One pass: compose nodes (for line numbers) and construct the data from the same nodes.
    # libyaml's loader when available: the pure-Python one dominates load time on big models.
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        out.issues.append(
            Issue(
                message=f"YAML syntax error: {getattr(err, 'problem', None) or err}",
                path=prefix,
                code="yaml_syntax",
                hint="Check indentation and quoting around this line.",
                file=file,
                line=mark.line + 1 if mark is not None else None,
            )
        )
        return None
    finally:
        loader.dispose()
    out.locations["/".join(str(p) for p in prefix)] = Loc(file=file, line=1)
    if node is not None:
        _walk_marks(node, prefix, file, out)
    return data


def _normalise_fields(raw: Any) -> Any:
    """Omni allows ``customer_id:`` (null) for a field with no properties."""
    if isinstance(raw, Mapping):
        return {k: ({} if v is None else v) for k, v in raw.items()}
    return raw


def _build(
    cls: type[BaseModel],
    data: Any,
    path: tuple[str | int, ...],
    out: _Collector,
    **extra: Any,
) -> Any | None:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        out.add(
            f"expected a mapping, got {type(data).__name__}",
            path,
            code="wrong_type",
            hint="Write this as `key: value` pairs.",
        )
        return None
    payload = dict(data)
    if cls is View:
        payload["dimensions"] = _normalise_fields(payload.get("dimensions") or {})
        payload["measures"] = _normalise_fields(payload.get("measures") or {})
        payload["dimensions"] = _named(payload["dimensions"])
        payload["measures"] = _named(payload["measures"])
    payload.update(extra)
    try:
        return cls.model_validate(payload)
    except ValidationError as err:
        for e in err.errors():
            sub = (*path, *(p for p in e["loc"] if isinstance(p, str | int)))
            hint = None
            if e["type"] == "extra_forbidden":
                allowed = _allowed_keys(cls, e["loc"])
                key = str(e["loc"][-1])
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = (
                    f"Did you mean '{close[0]}'?"
                    if close
                    else f"Allowed keys: {', '.join(sorted(allowed))}."
                )
            else:
                hint = "Fix the value to match the expected type."
            out.add(f"{'.'.join(map(str, e['loc']))}: {e['msg']}", sub, code="schema", hint=hint)
        return None


def _named(fields: Any) -> Any:
    if not isinstance(fields, Mapping):
        return fields
    return {k: ({**v, "name": k} if isinstance(v, Mapping) else v) for k, v in fields.items()}


def _allowed_keys(cls: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys accepted at ``loc`` (walking nested models through their annotations)."""
    from gnomon.semantic import model as m

    nested: dict[str, type[BaseModel]] = {"dimensions": m.Dimension, "measures": m.Measure}
    current: type[BaseModel] = cls
    for part in loc[:-1]:
        if isinstance(part, str) and part in nested and current is View:
            current = nested[part]
        elif part == "period_over_period":
            current = m.PeriodOverPeriod
        elif part in ("access_filters", "default_topic_access_filters"):
            current = m.AccessFilter
    return [(info.alias or name) for name, info in current.model_fields.items() if name != "name"]


def _settings_from(data: Mapping[str, Any], path: tuple[str | int, ...], out: _Collector) -> Any:
    payload = {k: v for k, v in data.items() if k != "topics"}
    topics = data.get("topics")
    if isinstance(topics, list | tuple):
        payload["enabled_topics"] = tuple(str(t) for t in topics)
    return _build(ModelSettings, payload, path, out)


def _finish(
    views: dict[str, View],
    relationships: list[Relationship],
    topics: dict[str, Topic],
    settings: ModelSettings | None,
    out: _Collector,
    *,
    check: bool,
) -> SemanticModel:
    model = SemanticModel(
        views=views,
        relationships=tuple(relationships),
        topics=topics,
        settings=settings or ModelSettings(),
        locations=out.locations,
    )
    issues = list(out.issues)
    if check:
        from gnomon.semantic.validate import validate

        issues.extend(validate(model))
    if issues:
        raise Invalid(summarise("model", issues), issues)
    return model


_PartT = TypeVar("_PartT", bound=BaseModel)


# Views and topics already built from a file's exact text, with that file's issues and line
# numbers. Editing one view of a large model re-parses that file only: the others are unchanged
# text, and the objects built from them are frozen, so the same ones serve the new model.
_PARTS: LruCache[tuple[Any, ...], tuple[Any, tuple[Issue, ...], dict[str, Loc]]] = LruCache(8192)


def _load_part(
    cls: type[_PartT],
    file: str,
    text: str,
    prefix: tuple[str | int, ...],
    name: str,
    out: _Collector,
) -> _PartT | None:
    key = (cls.__name__, file, text, prefix, name)
    cached = _PARTS.get(key)
    if cached is None:
        local = _Collector()
        data = _parse_yaml(file, text, prefix, local)
        built = _build(cls, data, prefix, local, name=name)
        cached = (built, tuple(local.issues), dict(local.locations))
        _PARTS.put(key, cached)
    built, issues, locations = cached
    out.issues.extend(issues)
    out.locations.update(locations)
    return cast("_PartT | None", built)


def load_files(files: Mapping[str, str], *, check: bool = True) -> SemanticModel:
    """Load Omni-style named files: ``<view>.view``, ``<topic>.topic``, ``relationships``,
    ``model`` (each optionally ending in ``.yaml``/``.yml``).

    >>> m = load_files({"orders.view": "table_name: orders\\ndimensions: {id: {primary_key: true}}",
    ...                 "sales.topic": "base_view: orders"})
    >>> sorted(m.views), sorted(m.topics)
    (['orders'], ['sales'])
    """
    out = _Collector()
    views: dict[str, View] = {}
    topics: dict[str, Topic] = {}
    relationships: list[Relationship] = []
    settings: ModelSettings | None = None
    view_files: dict[str, str] = {}
    topic_files: dict[str, str] = {}
    for file, text in files.items():
        kind = _file_kind(file)
        if kind is None:
            out.issues.append(
                Issue(
                    message=f"cannot tell what kind of file '{file}' is",
                    path=(file,),
                    code="unknown_file_kind",
                    hint="Name it '<name>.view', '<name>.topic', 'relationships' or 'model'.",
                    file=file,
                )
            )
            continue
        what, name = kind
        if what == "view":
            prefix: tuple[str | int, ...] = ("views", name)
            if name in view_files:
                out.issues.append(
                    Issue(
                        message=f"view '{name}' is defined in two files",
                        path=prefix,
                        code="duplicate_name",
                        hint=f"Keep one of '{view_files[name]}' and '{file}'.",
                        file=file,
                        line=1,
                    )
                )
                continue
            view_files[name] = file
            view = _load_part(View, file, text, prefix, name, out)
            if view is not None:
                views[name] = view
        elif what == "topic":
            prefix = ("topics", name)
            if name in topic_files:
                out.issues.append(
                    Issue(
                        message=f"topic '{name}' is defined in two files",
                        path=prefix,
                        code="duplicate_name",
                        hint=f"Keep one of '{topic_files[name]}' and '{file}'.",
                        file=file,
                        line=1,
                    )
                )
                continue
            topic_files[name] = file
            topic = _load_part(Topic, file, text, prefix, name, out)
            if topic is not None:
                topics[name] = topic
        elif what == "relationships":
            data = _parse_yaml(file, text, ("relationships",), out)
            relationships.extend(_relationships(data, out))
        else:
            data = _parse_yaml(file, text, ("settings",), out)
            if data is not None and not isinstance(data, Mapping):
                out.add("the model file must be a mapping", ("settings",), code="wrong_type")
            elif data is not None:
                settings = _settings_from(data, ("settings",), out)
    return _finish(views, relationships, topics, settings, out, check=check)


def _relationships(data: Any, out: _Collector) -> list[Relationship]:
    if data is None:
        return []
    if not isinstance(data, list):
        out.add(
            "relationships must be a list",
            ("relationships",),
            code="wrong_type",
            hint="Start each relationship with '- join_from_view: ...'.",
        )
        return []
    built = [_build(Relationship, item, ("relationships", i), out) for i, item in enumerate(data)]
    return [r for r in built if r is not None]


def load_document(doc: Mapping[str, Any], *, check: bool = True) -> SemanticModel:
    """Load the combined document ``{"views": {...}, "relationships": [...], "topics": {...},
    <settings keys>}``. ``topics`` given as a list of names enables exactly those topics.

    >>> m = load_document({"views": {"orders": {"table_name": "orders"}},
    ...                    "topics": {"sales": {"base_view": "orders"}}})
    >>> m.topics["sales"].base_view
    'orders'
    """
    out = _Collector()
    views: dict[str, View] = {}
    topics: dict[str, Topic] = {}
    known = {"views", "relationships", "topics"} | _SETTINGS_KEYS
    for key in doc:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            out.add(
                f"unknown top-level key '{key}'",
                (str(key),),
                code="schema",
                hint=f"Did you mean '{close[0]}'?" if close else f"Allowed: {', '.join(known)}.",
            )
    raw_views = doc.get("views") or {}
    if not isinstance(raw_views, Mapping):
        out.add("views must be a mapping of name to view", ("views",), code="wrong_type")
        raw_views = {}
    for name, body in raw_views.items():
        view = _build(View, body, ("views", name), out, name=name)
        if view is not None:
            views[name] = view
    raw_topics = doc.get("topics")
    if isinstance(raw_topics, Mapping):
        for name, body in raw_topics.items():
            topic = _build(Topic, body, ("topics", name), out, name=name)
            if topic is not None:
                topics[name] = topic
    settings_data = {k: v for k, v in doc.items() if k in _SETTINGS_KEYS}
    settings = _settings_from(settings_data, ("settings",), out)
    relationships = _relationships(doc.get("relationships"), out)
    return _finish(views, relationships, topics, settings, out, check=check)


def _dump(obj: BaseModel) -> dict[str, Any]:
    data = obj.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.pop("name", None)
    return data


def dump_files(model: SemanticModel) -> dict[str, str]:
    """The model as named files; ``load_files(dump_files(m)) == m``."""
    files: dict[str, str] = {}
    for name, view in model.views.items():
        data = _dump(view)
        for section in ("dimensions", "measures"):
            if section in data:
                data[section] = {k: {**v} for k, v in data[section].items()}
                for body in data[section].values():
                    body.pop("name", None)
        files[f"{name}.view"] = yaml.safe_dump(data, sort_keys=False)
    for name, topic in model.topics.items():
        files[f"{name}.topic"] = yaml.safe_dump(_dump(topic), sort_keys=False)
    if model.relationships:
        files["relationships"] = yaml.safe_dump(
            [_dump(r) for r in model.relationships], sort_keys=False
        )
    settings = _dump(model.settings)
    if settings:
        enabled = settings.pop("enabled_topics", None)
        if enabled is not None:
            settings["topics"] = enabled
        files["model"] = yaml.safe_dump(settings, sort_keys=False)
    return files


class _ModelDocument(BaseModel):
    """JSON Schema source for the combined document (settings keys sit at the top level)."""

    views: dict[str, View] = {}
    relationships: list[Relationship] = []
    topics: dict[str, Topic] | list[str] = {}


def model_json_schema() -> dict[str, Any]:
    """JSON Schema of the combined model document, for editors and ``gnomon model schema``."""
    schema = _ModelDocument.model_json_schema(by_alias=True)
    settings = ModelSettings.model_json_schema(by_alias=True)
    schema.setdefault("$defs", {}).update(settings.pop("$defs", {}))
    props = settings.get("properties", {})
    props.pop("enabled_topics", None)
    schema["properties"].update(props)
    schema["title"] = "gnomon semantic model"
    schema["additionalProperties"] = False
    return schema
