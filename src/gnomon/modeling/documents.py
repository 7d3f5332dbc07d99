"""Turning a model update body into the model's new set of files (pure).

A model is stored as named files (``orders.view``, ``sales.topic``, ``relationships``,
``model``) so that it round-trips with a directory in git. Update bodies come in three shapes:

- ``{"files": {...}}`` replaces every file;
- the combined document's keys (``views``, ``relationships``, ``topics`` as definitions)
  replace those parts;
- model settings (``default_topic_access_filters``, ``ai_chat_topics``, ``caching_policy`` …)
  replace those settings in the ``model`` file, and ``topics`` given as a list of names enables
  exactly those topics (the seed's ``PUT /model`` body).

Keys not named in the body keep their current value: "top-level keys it names are replaced".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from gnomon.errors import Invalid, Issue

SETTINGS_KEYS = (
    "default_topic_access_filters",
    "ai_chat_topics",
    "caching_policy",
    "cache_policies",
    "default_cache_policy",
    "week_start_day",
    "enabled_topics",
    "timezone",
    "dialect",
)
PART_KEYS = ("views", "relationships", "topics", "files")
META_KEYS = ("message", "change_log")
MODEL_FILE = "model"


def _dump(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)


def _kind(name: str) -> str:
    base = name.removesuffix(".yaml").removesuffix(".yml")
    if base.endswith(".view"):
        return "view"
    if base.endswith(".topic"):
        return "topic"
    return base


def apply_update(files: Mapping[str, str], body: Mapping[str, Any]) -> dict[str, str]:
    """The files after applying ``body``; unknown keys are refused, all listed at once."""
    unknown = [k for k in body if k not in (*SETTINGS_KEYS, *PART_KEYS, *META_KEYS)]
    if unknown:
        raise Invalid(
            "unknown keys in the model update",
            [
                Issue(
                    f"unknown key '{k}'",
                    (k,),
                    code="unknown_key",
                    hint="one of: " + ", ".join((*PART_KEYS, *SETTINGS_KEYS, *META_KEYS)),
                )
                for k in unknown
            ],
        )
    if "files" in body:
        others = [k for k in body if k not in ("files", *META_KEYS)]
        if others:
            raise Invalid(
                "`files` replaces the whole model and cannot be combined with other parts",
                [Issue(f"'{k}' given together with 'files'", (k,)) for k in others],
            )
        new_files = body["files"]
        if not isinstance(new_files, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in new_files.items()
        ):
            raise Invalid(
                "`files` must map file names to YAML text",
                [Issue("expected an object of name → YAML text", ("files",))],
            )
        return dict(new_files)

    out = dict(files)
    issues: list[Issue] = []
    if "views" in body:
        views = body["views"]
        if not isinstance(views, Mapping):
            issues.append(Issue("`views` must be an object of view name → definition", ("views",)))
        else:
            out = {k: v for k, v in out.items() if _kind(k) != "view"}
            for name, definition in views.items():
                out[f"{name}.view"] = _dump(definition)
    if "relationships" in body:
        rels = body["relationships"]
        if not isinstance(rels, list):
            issues.append(Issue("`relationships` must be a list", ("relationships",)))
        else:
            out = {k: v for k, v in out.items() if _kind(k) != "relationships"}
            out["relationships"] = _dump(rels)
    settings = _settings(out)
    if "topics" in body:
        topics = body["topics"]
        if isinstance(topics, list):
            if not all(isinstance(t, str) for t in topics):
                issues.append(Issue("a list of topics must hold topic names", ("topics",)))
            else:
                settings["enabled_topics"] = list(topics)
        elif isinstance(topics, Mapping):
            out = {k: v for k, v in out.items() if _kind(k) != "topic"}
            for name, definition in topics.items():
                out[f"{name}.topic"] = _dump(definition)
            settings.pop("enabled_topics", None)
        else:
            issues.append(
                Issue(
                    "`topics` must be a list of names to enable or an object of definitions",
                    ("topics",),
                )
            )
    for key in SETTINGS_KEYS:
        if key in body:
            if body[key] is None:
                settings.pop(key, None)
            else:
                settings[key] = body[key]
    if issues:
        raise Invalid("invalid model update", issues)
    model_name = next((k for k in out if _kind(k) == MODEL_FILE), MODEL_FILE)
    if settings:
        out[model_name] = _dump(settings)
    else:
        out.pop(model_name, None)
    return out


def _settings(files: Mapping[str, str]) -> dict[str, Any]:
    for name, text in files.items():
        if _kind(name) == MODEL_FILE:
            loaded = yaml.safe_load(text) or {}
            return dict(loaded) if isinstance(loaded, dict) else {}
    return {}


def file_diff(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
    }
