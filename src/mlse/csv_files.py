"""Reading a CSV file a person made or edited (a Canvas gradebook export, a filled hand-grading
sheet): one home for the rules both imports follow, so they fail the same way on bad input.

A spreadsheet saves CSV the way its settings say, and an instructor should not have to know them:
Excel on Windows writes its "CSV" in the Windows code page (cp1252), not UTF-8, and with European
regional settings it separates columns with ``;`` and writes decimals with a comma (``1,5``). All
of these are read as meant (:func:`read_import_csv`, :func:`read_number`).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

__all__ = ["read_import_csv", "read_number", "ENCODINGS", "DELIMITERS"]

#: Tried in this order: UTF-8 (with or without a spreadsheet's byte-order mark), then the Windows
#: code page Excel uses for "CSV (Comma delimited)" on Western European and American systems.
ENCODINGS = ("utf-8-sig", "cp1252")
#: Column separators a spreadsheet writes: comma, semicolon (European settings), tab.
DELIMITERS = (",", ";", "\t")
SAVE_AS = ("save it from the spreadsheet as \"CSV UTF-8 (Comma delimited)\" (Excel) or \"Text CSV\" "
           "with character set Unicode (UTF-8) (LibreOffice)")


def _decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8 or cp1252", data, 0, len(data), "neither encoding reads it")


def _delimiter(first_line: str) -> str:
    """The separator the header line uses most (column names hold none of them)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_import_csv(path: str | Path, error: type[Exception]) -> tuple[list[str], list[dict]]:
    """The column names (spaces around them removed) and the rows of ``path``, read whole before
    anything is imported. UTF-8 or cp1252, separated by commas, semicolons or tabs (see the
    module docstring). A missing file or one that is not readable CSV (a spreadsheet saved in
    another format) raises ``error`` with what was wrong and how to save it."""
    path = Path(path)
    if not path.is_file():
        raise error(f"No file at {path}: nothing was imported.")
    try:
        text = _decode(path.read_bytes())
        if "\x00" in text:
            raise csv.Error("it holds binary data (a spreadsheet's own format, not CSV?)")
        reader = csv.DictReader(io.StringIO(text, newline=""),
                                delimiter=_delimiter(text.split("\n", 1)[0]))
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise error(f"{path} is not a readable CSV ({exc}): {SAVE_AS}. Nothing was imported.") from None
    return header, rows


_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def read_number(text: str) -> float:
    """A number as a person typed it in a spreadsheet: ``1.5``, or ``1,5`` (a decimal comma,
    European settings). ValueError if it is not one."""
    text = text.strip()
    if _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    return float(text)
