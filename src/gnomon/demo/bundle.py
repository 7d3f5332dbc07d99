"""The demo model as shipped: where its YAML files live, and all of them read at once."""

from __future__ import annotations

from pathlib import Path

# The model ships as package data (pyproject includes ``demo/model/*``); it is a real directory in
# both source checkouts and installed wheels, so a plain path is enough.
_MODEL_DIR = Path(__file__).resolve().parent / "model"


def model_dir() -> Path:
    """The directory holding the demo model files (``*.view``, ``*.topic``, ``relationships``,
    ``model``)."""
    return _MODEL_DIR


def model_files() -> dict[str, str]:
    """Every demo model file by name, in name order: ``{"orders.view": "<yaml>", ...}``."""
    return {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(_MODEL_DIR.iterdir())
        if p.is_file() and not p.name.startswith((".", "_"))
    }
