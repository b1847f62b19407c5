"""Reading a watch-list CSV file into checked rows (pure: bytes in, rows or a refusal out).

The format (docs/risk-watchlist.md, "The CSV file"): UTF-8, with or without a byte-order
mark; a header row naming the columns ``name,date_of_birth,id_number,country,reason`` (in
any order; ``name`` is required, the others may be left out, no other column is allowed);
then one entry per row. A bad row refuses the whole file with its line number and the
reason, so a load is all or nothing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date
from typing import Final

from ewallet.kit.errors import ValidationFailedError
from ewallet.risk.watchlist.errors import WatchlistFileError
from ewallet.risk.watchlist.normalise import normalise_name
from ewallet.risk.watchlist.views import EntryRow

COLUMNS: Final = ("name", "date_of_birth", "id_number", "country", "reason")
MAX_NAME: Final = 200
MAX_REASON: Final = 500
MAX_ID_NUMBER: Final = 40
MAX_ROWS: Final = 500_000
MAX_FILE_BYTES: Final = 100 * 1024 * 1024
LIST_NAME: Final = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COUNTRY: Final = re.compile(r"^[A-Z]{2}$")
_ID_NUMBER: Final = re.compile(r"^[A-Z0-9-]{4,40}$")


def check_list_name(name: str) -> str:
    """A list's name: lowercase letters, digits, ``_`` and ``-``, 1 to 32, a letter first."""
    if not LIST_NAME.fullmatch(name):
        raise ValidationFailedError("a list name has 1 to 32 lowercase letters, digits, _ or -")
    return name


def canonical_id_number(raw: str) -> str:
    """An ID or passport number as digested: half-width, upper case, no spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).upper()


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise WatchlistFileError(line, "the file is not UTF-8") from None


def _date_of_birth(raw: str, line: int) -> date | None:
    if not raw:
        return None
    if not _ISO_DATE.fullmatch(raw):
        raise WatchlistFileError(line, f"date_of_birth {raw!r} is not YYYY-MM-DD")
    try:
        born = date.fromisoformat(raw)
    except ValueError:
        raise WatchlistFileError(line, f"date_of_birth {raw!r} is not a real date") from None
    if born.year < 1850:
        raise WatchlistFileError(line, f"date_of_birth {raw!r} is before 1850")
    return born


def _row(values: dict[str, str], line: int) -> EntryRow:
    name = values.get("name", "").strip()
    if not name:
        raise WatchlistFileError(line, "name is empty")
    if len(name) > MAX_NAME:
        raise WatchlistFileError(line, f"name is longer than {MAX_NAME} characters")
    if not normalise_name(name).keys:
        raise WatchlistFileError(line, "name has no letter or digit")
    id_number = canonical_id_number(values.get("id_number", "")) or None
    if id_number is not None and not _ID_NUMBER.fullmatch(id_number):
        raise WatchlistFileError(
            line, f"id_number has 4 to {MAX_ID_NUMBER} letters, digits or hyphens"
        )
    country = values.get("country", "").strip().upper() or None
    if country is not None and not _COUNTRY.fullmatch(country):
        raise WatchlistFileError(line, f"country {country!r} is not a two-letter ISO code")
    reason = values.get("reason", "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise WatchlistFileError(line, f"reason is longer than {MAX_REASON} characters")
    born = _date_of_birth(values.get("date_of_birth", "").strip(), line)
    return EntryRow(line, name, born, id_number, country, reason)


def read_csv(content: bytes) -> list[EntryRow]:
    """Every entry of ``content``, checked; :class:`WatchlistFileError` for the first bad
    line (a header without ``name`` or with an unknown column, a row with too many or too
    few fields, a bad value). An empty list of entries is a valid file (``--replace``
    with it empties a list)."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationFailedError(f"the file is larger than {MAX_FILE_BYTES} bytes")
    reader = csv.reader(io.StringIO(_decode(content), newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise WatchlistFileError(1, "the file is empty: a header row is required")
        columns = [column.strip().lower() for column in header]
        unknown = [column for column in columns if column not in COLUMNS]
        if unknown:
            raise WatchlistFileError(1, f"unknown column {unknown[0]!r} (known: {COLUMNS})")
        if len(set(columns)) != len(columns):
            raise WatchlistFileError(1, "a column is named twice")
        if "name" not in columns:
            raise WatchlistFileError(1, "the header has no 'name' column")
        rows: list[EntryRow] = []
        for fields in reader:
            line = reader.line_num
            if not any(field.strip() for field in fields):
                continue  # a blank line
            if len(fields) != len(columns):
                raise WatchlistFileError(
                    line, f"{len(fields)} fields where the header has {len(columns)}"
                )
            if len(rows) >= MAX_ROWS:
                raise WatchlistFileError(line, f"more than {MAX_ROWS} entries in one file")
            rows.append(_row(dict(zip(columns, fields, strict=True)), line))
    except csv.Error as error:
        raise WatchlistFileError(reader.line_num, f"not valid CSV: {error}") from None
    return rows
