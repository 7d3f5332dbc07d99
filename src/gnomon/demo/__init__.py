"""The demo: a deterministic warehouse and the semantic model whose topics carry the seed's names.

``build_warehouse`` writes the DuckDB file; ``model_dir``/``model_files`` give the demo model
(YAML files shipped as package data) as a directory or as the ``{"files": {name: yaml}}`` form
that the modeling API and the loader accept; ``seed_queries`` are the seed's Query API requests
with reference SQL that answers them without the semantic layer.
"""

from gnomon.demo.bundle import model_dir, model_files
from gnomon.demo.seed_queries import SeedQuery, previous_quarter_range, quarter_range, seed_queries
from gnomon.demo.warehouse import TABLES, WarehouseInfo, build_warehouse

__all__ = [
    "TABLES",
    "SeedQuery",
    "WarehouseInfo",
    "build_warehouse",
    "model_dir",
    "model_files",
    "previous_quarter_range",
    "quarter_range",
    "seed_queries",
]
