"""Built-in system topics: gnomon's own query history through the same Query API."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from gnomon.semantic import SemanticModel, load_files

SYSTEM_TOPICS = frozenset({"system_metrics"})
ORG_ATTRIBUTE = "gnomon_org_id"


@lru_cache(maxsize=1)
def system_model() -> SemanticModel:
    folder = resources.files("gnomon.queries").joinpath("system_model")
    files = {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.is_file() and not entry.name.startswith(("_", "."))
    }
    return load_files(files)
