"""Reading a bundle: :func:`read_bundle` validates a whole folder (the column rules are in
:mod:`models.bundle.checks`), :func:`parse_entity_csv` one entity's file (e.g. a school's graduates
upload), :func:`read_table` splits one CSV file into its header and cells.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from models.bundle.checks import check_entity, id_column
from models.bundle.format import (
    BUNDLE_FILES,
    ENTITY_ORDER,
    MAX_COLUMNS,
    SPARE_COLUMNS,
    BundleError,
    KnownIds,
    Problem,
    ProblemList,
    paused_gc,
)
from models.data import MarketData


def _decode(raw: bytes, file: str, problems: ProblemList) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        problems.add(
            file,
            line,
            "-",
            f"not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); save the file as UTF-8",
        )
        return None
    return text.removeprefix("\ufeff")


def read_table(raw: bytes, file: str, problems: ProblemList) -> tuple[list[str], pd.DataFrame] | None:
    """Decode and split one CSV file into its header and a frame of strings.

    The frame's index is the spreadsheet line of each row (the header is line 1); wholly
    empty rows are dropped. Returns None (after adding a problem) when the file cannot be read.
    """
    text = _decode(raw, file, problems)
    if text is None:
        return None
    if not text.strip():
        problems.add(file, 1, "-", "the file is empty; it needs at least the header row")
        return None
    if "\x00" in text:  # no database takes it, and no spreadsheet writes it
        line = text.count("\n", 0, text.index("\x00")) + 1
        problems.add(file, line, "-", "contains a NUL character (is it really a CSV file?)")
        return None
    try:
        width = len(next(csv.reader(io.StringIO(text.split("\n", 1)[0]))))
    except csv.Error as error:  # e.g. a lone carriage return inside the header line
        problems.add(file, 1, "-", f"not a valid CSV file: the header line cannot be read ({error})")
        return None
    if width > MAX_COLUMNS:
        problems.add(file, 1, "-", f"the header has {width} columns; at most {MAX_COLUMNS} are read")
        return None
    try:
        # A few spare columns catch rows longer than the header as problems instead of a crash.
        table = pd.read_csv(
            # Bytes, not a StringIO: pandas re-encodes a text buffer chunk by chunk with a growing
            # overflow, which takes minutes on one 50 MB cell.
            io.BytesIO(text.encode("utf-8")),
            encoding="utf-8",
            header=None,
            names=list(range(width + SPARE_COLUMNS)),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, ValueError) as error:
        message = str(error).strip().removeprefix("Error tokenizing data. C error: ")
        match = re.search(r"line (\d+)", message)
        problems.add(file, int(match.group(1)) if match else 0, "-", f"not a valid CSV file: {message}")
        return None
    header = [str(name).strip() for name in table.iloc[0, :width]]
    body = table.iloc[1:]
    body.index = pd.RangeIndex(2, len(table) + 1)
    if len(body):
        spare = body.iloc[:, width:]
        overlong = (spare != "").any(axis=1)
        if overlong.any():
            problems.add_rows(
                file,
                body.index[overlong.to_numpy()],
                "-",
                f"the row has more cells than the header ({width})",
            )
        body = body.iloc[:, :width]
        empty = (body == "").all(axis=1)
        body = body[~empty.to_numpy()]
    else:
        body = body.iloc[:, :width]
    # A column with neither a name nor a value is a spreadsheet's trailing comma, not data.
    keep = [i for i, name in enumerate(header) if name or (body.iloc[:, i] != "").any()]
    if len(keep) < width:
        header = [header[i] for i in keep]
        body = body.iloc[:, keep]
    body.columns = pd.RangeIndex(len(header))
    return header, body


def parse_entity_csv(
    entity: str, source: Path | bytes, *, known: KnownIds | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Validate one entity's CSV file (e.g. a school's graduates upload).

    Parameters
    ----------
    entity
        One of ``BUNDLE_FILES`` (``"graduates"``, ``"vacancies"``, ...).
    source
        A file path or the file's bytes.
    known
        Ids references may point at (usually what the store holds); None checks no references.

    Returns
    -------
    frame, problems
        The rows as MarketData columns and dtypes, and every problem found (empty when valid).
        Use the frame only when there are no problems.
    """
    if entity not in BUNDLE_FILES:
        raise ValueError(f"unknown entity {entity!r}; expected one of {sorted(BUNDLE_FILES)}")
    file = source.name if isinstance(source, Path) else BUNDLE_FILES[entity]
    problems = ProblemList()
    raw = source.read_bytes() if isinstance(source, Path) else source
    references = _reference_sets(known)
    table = read_table(raw, file, problems)
    frame = None
    if table is not None:
        frame = check_entity(entity, file, *table, references=references, problems=problems)
    if frame is None:
        frame = getattr(MarketData(), entity)
    return frame, problems.items


def _reference_sets(known: KnownIds | None) -> dict[str, Any]:
    if known is None:
        return {}
    return {name: pd.Index(sorted(ids)) for name, ids in vars(known).items() if ids is not None}


def read_bundle(directory: str | Path) -> MarketData:
    """Read and validate a whole bundle; raise :class:`BundleError` listing every problem.

    Files are checked in reference order; a reference into a file that could not be read is
    not checked again (its own problem is reported once). Other files and folders in the
    directory (such as ``ground_truth/``) are ignored.
    """
    with paused_gc():
        return _read_bundle(Path(directory))


def _read_bundle(directory: Path) -> MarketData:
    problems = ProblemList()
    if not directory.is_dir():
        problems.add(str(directory), 0, "-", "the bundle folder does not exist")
        raise BundleError(problems.items, problems.total)
    frames: dict[str, pd.DataFrame] = {}
    references: dict[str, Any] = {}
    for entity in ENTITY_ORDER:
        file = BUNDLE_FILES[entity]
        path = directory / file
        if not path.is_file():
            problems.add(file, 0, "-", f"the file is missing from the bundle folder {directory}")
            continue
        if not path.resolve().is_relative_to(directory.resolve()):
            problems.add(file, 0, "-", "is a link to a file outside the bundle folder; copy the file in")
            continue
        table = read_table(path.read_bytes(), file, problems)
        if table is None:
            continue
        frame = check_entity(entity, file, *table, references=references, problems=problems)
        if frame is None:
            continue
        frames[entity] = frame
        key = id_column(entity)
        if key is not None:
            references[entity] = pd.Index(frame[key].unique())
    if problems:
        items = sorted(problems.items, key=lambda p: (_file_rank(p.file), p.line, p.column))
        raise BundleError(items, problems.total)
    return MarketData(**frames)


def _file_rank(file: str) -> int:
    names = [BUNDLE_FILES[e] for e in ENTITY_ORDER]
    return names.index(file) if file in names else -1
