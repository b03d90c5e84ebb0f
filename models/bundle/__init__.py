"""The CSV bundle format — the data contract between schools, enterprises and talentmatch: read, validate,
write.

It sits beneath both the store (``service.store`` imports and exports bundles, validates uploads with its
rules) and training (``training`` reads bundles to train on, the demo writes them); it imports neither.

* :mod:`models.bundle.format` — the files, columns, limits and how problems are reported;
* :mod:`models.bundle.checks` — every column's rule, checked vectorised;
* :mod:`models.bundle.reader` — :func:`read_bundle`, :func:`parse_entity_csv`, :func:`read_table`;
* :mod:`models.bundle.writer` — :func:`write_bundle`, :func:`format_cell`.
"""

from models.bundle.format import (
    BUNDLE_FILES,
    ENTITY_ORDER,
    LIST_SEPARATOR,
    MAX_PROBLEMS,
    SORT_KEYS,
    BundleError,
    KnownIds,
    Problem,
    ProblemList,
    paused_gc,
)
from models.bundle.reader import parse_entity_csv, read_bundle, read_table
from models.bundle.writer import format_cell, neutralise, write_bundle

__all__ = [
    "BUNDLE_FILES",
    "ENTITY_ORDER",
    "LIST_SEPARATOR",
    "MAX_PROBLEMS",
    "SORT_KEYS",
    "BundleError",
    "KnownIds",
    "Problem",
    "ProblemList",
    "format_cell",
    "neutralise",
    "paused_gc",
    "parse_entity_csv",
    "read_bundle",
    "read_table",
    "write_bundle",
]
