"""Every event type emitted anywhere in src/ is in the catalog (so receivers can rely on it)."""

from __future__ import annotations

import re
from pathlib import Path

import gnomon
import gnomon.api.app
from gnomon.events import CATALOG

SRC = Path(gnomon.__file__).parent
# Event("user.created", ...) and events.Event(\n    "user.created", ...
LITERAL = re.compile(r"\bEvent\(\s*\"([a-z0-9_]+(?:\.[a-z0-9_]+)+)\"")


def emitted_types() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for name in LITERAL.findall(path.read_text()):
            found.setdefault(name, []).append(str(path.relative_to(SRC)))
    return found


def test_every_emitted_event_type_is_in_the_catalog() -> None:
    found = emitted_types()
    # The scan itself works: it sees the webhooks domain's own emissions.
    assert {"webhook.created", "webhook.test", "webhook.disabled"} <= set(found)
    missing = {name: where for name, where in found.items() if name not in CATALOG}
    assert not missing, f"emitted but not registered: {missing}"


def test_catalog_entries_have_descriptions_and_object_schemas() -> None:
    for entry in CATALOG.values():
        assert entry.description
        assert entry.data_schema.get("type") == "object", entry.name
