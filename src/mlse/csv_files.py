"""Reading a CSV file a person made or edited (a Canvas gradebook export, a filled hand-grading
sheet): one home for the rules both imports follow, so they fail the same way on bad input."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["read_import_csv"]


def read_import_csv(path: str | Path, error: type[Exception]) -> tuple[list[str], list[dict]]:
    """The column names (spaces around them removed) and the rows of ``path``, read whole before
    anything is imported. A missing file or one that is not readable CSV (a spreadsheet saved in
    another format, another text encoding) raises ``error`` with what was wrong; a spreadsheet's
    byte-order mark is ignored."""
    path = Path(path)
    if not path.is_file():
        raise error(f"No file at {path}: nothing was imported.")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise error(f"{path} is not a readable CSV ({exc}); nothing was imported.") from None
    return header, rows
