"""The semantic layer: model, loader, validation and the pure query compiler.

Nothing here performs I/O: the loader takes file texts, the compiler returns SQL text.
"""

from gnomon.semantic.compiler import AccessContext, CompiledQuery, FieldMeta, compile_query
from gnomon.semantic.loader import dump_files, load_document, load_files, model_json_schema
from gnomon.semantic.model import (
    AccessFilter,
    Dimension,
    Measure,
    ModelSettings,
    PeriodOverPeriod,
    Relationship,
    SemanticModel,
    Topic,
    View,
)
from gnomon.semantic.query import QueryRequest, SortSpec
from gnomon.semantic.validate import validate

__all__ = [
    "AccessContext",
    "AccessFilter",
    "CompiledQuery",
    "Dimension",
    "FieldMeta",
    "Measure",
    "ModelSettings",
    "PeriodOverPeriod",
    "QueryRequest",
    "Relationship",
    "SemanticModel",
    "SortSpec",
    "Topic",
    "View",
    "compile_query",
    "dump_files",
    "load_document",
    "load_files",
    "model_json_schema",
    "validate",
]
