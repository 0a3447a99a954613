"""CSV downloads that open cleanly in a Chilean Excel and cannot carry a formula.

- A cell a person typed (a client's name, a payment reference) that starts with = + - @, a tab
  or a carriage return is prefixed with an apostrophe: spreadsheets would otherwise run it as a
  formula (`=HYPERLINK(...)`, DDE). Numbers and dates are ours and are written as they are.
- UTF-8 with a byte-order mark, so Excel reads "Ñuñoa" and "Línea" right.
- In the Spanish UI: Spanish headers and values (statuses, methods), `;` between cells and a
  decimal comma (what Excel expects with Chilean regional settings); in English, `,` and a decimal
  point. Dates are dd-mm-yyyy in both, as everywhere in the portal.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from django.utils.translation import get_language

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    header: str  # a lazy translation, read in the request's language
    value: Callable[[object], object]


def neutralise(text: str) -> str:
    """Text that a spreadsheet would take for a formula, made plain text."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _spanish() -> bool:
    return (get_language() or "es").startswith("es")


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return str(value).replace(".", ",") if _spanish() else str(value)
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")  # one date format in every language (portal/formats)
    return neutralise(str(value))


def csv_response(filename: str, columns: list[Column], rows: Iterable[object]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write(BOM)
    writer = csv.writer(response, delimiter=";" if _spanish() else ",")
    writer.writerow([neutralise(str(column.header)) for column in columns])
    writer.writerows([cell(column.value(row)) for column in columns] for row in rows)
    return response
