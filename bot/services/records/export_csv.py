"""CSV files for spreadsheets: UTF-8 with a BOM (Excel reads Chinese right), cells that a
spreadsheet would run as a formula neutralised, written to a temporary file row by row."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

#: a text cell starting with one of these is a formula to Excel/LibreOffice (CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """Numbers stay numbers; text that would start a formula gets a leading apostrophe; ``None``
    is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvSpool:
    """``with CsvSpool(header) as spool: spool.write(rows)``; then ``spool.path`` (deleted by
    :meth:`discard`). Only the current rows are ever in memory."""

    def __init__(self, header: Sequence[str]) -> None:
        fd, name = tempfile.mkstemp(prefix="sopbot-export-", suffix=".csv")
        self.path = Path(name)
        self._file = os.fdopen(fd, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow([safe_cell(h) for h in header])
        self.rows = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self._writer.writerow([safe_cell(cell) for cell in row])
            self.rows += 1

    @property
    def size(self) -> int:
        self._file.flush()
        return self.path.stat().st_size

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def discard(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> CsvSpool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
