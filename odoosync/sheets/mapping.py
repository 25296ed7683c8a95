"""From a sheet's header and rows to lead values: column matching, normalisation, row keys.

Header matching: each lead field has a name and common synonyms ("E-mail address",
"Expected revenue", "Company"...); headers and synonyms are compared with case, spaces
and punctuation ignored. An explicit ``--map field=Header`` wins over synonyms. ``title``
is required: a sheet without a title column is refused, naming the missing field (never quoting the header: errors echo no content).

Values are normalised so that cosmetic edits do not count as changes: text trimmed and
inner whitespace collapsed, e-mails lower-cased and checked, amounts parsed
("£1,234.50", "1.234,50 €", "12k"), dates parsed (ISO, day-first ``dd/mm/yyyy`` or
month-first when configured, "3 Feb 2026"), probabilities as 0–100, tags split on
``,``/``;``/``|``. Columns that map to no lead field are kept in the lead's metadata.

Row key: the configured key column, else a hash of the identifying fields (title,
contact, e-mail, phone), so editing any other cell updates the lead instead of
replacing it. The lead's ``source_email_id`` is ``sheet_<customer id>_<row key>``.

Everything here is pure: no I/O, no database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from odoosync.exceptions import SheetFormatError

__all__ = [
    "LEAD_FIELDS",
    "REQUIRED_FIELDS",
    "IDENTIFYING_FIELDS",
    "ColumnPlan",
    "RowError",
    "SheetLead",
    "plan_columns",
    "map_record",
    "normalize_header",
    "source_email_id",
    "ROW_ERROR_KINDS",
]

REQUIRED_FIELDS = ("title",)
IDENTIFYING_FIELDS = ("title", "contact_name", "email", "phone")
ROW_ERROR_KINDS = (
    "column_count",
    "missing_title",
    "missing_key",
    "bad_email",
    "bad_amount",
    "bad_date",
    "bad_number",
    "duplicate_key",
)
_MAX_KEY_CHARS = 200


class _BadValue(ValueError):
    """A cell that cannot be normalised; ``kind`` is the row-error kind."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


# ------------------------------------------------------------------ value normalisers


_FORMULA_STARTS = ("=", "+", "-", "@")  # what spreadsheets evaluate at the start of a cell
_FORMULA_GUARD = "\t"


def _text(raw: str, **_: Any) -> str | None:
    """Whitespace collapsed; a formula a sheet neutralised with a leading tab keeps its tab.

    ``"\t=HYPERLINK(...)"`` is text to a spreadsheet; trimmed, it would become a live
    formula again wherever the lead is exported to one.
    """
    collapsed = " ".join(raw.split())
    if collapsed.startswith(_FORMULA_STARTS) and raw[:1] == _FORMULA_GUARD:
        return _FORMULA_GUARD + collapsed
    return collapsed or None


_EMAIL = re.compile(r"^[^@\s,;<>()\"]+@[^@\s,;<>()\"]+\.[^@\s,;<>()\".]{2,}$")


def _email(raw: str, **_: Any) -> str | None:
    value = raw.strip().lower()
    if value.startswith("mailto:"):
        value = value[len("mailto:") :]
    if not value:
        return None
    if not _EMAIL.match(value):
        raise _BadValue("bad_email", f"bad e-mail {raw.strip()!r}")
    return value


_CURRENCY = re.compile(r"(?i)[£$€¥]|\b(?:gbp|usd|eur|chf|aud|cad)\b")


def _amount(raw: str, **_: Any) -> Decimal | None:
    text = _CURRENCY.sub("", raw).strip().replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not text:
        return None
    multiplier = Decimal(1)
    if text[-1:].lower() in ("k", "m"):
        multiplier = Decimal(1000) if text[-1].lower() == "k" else Decimal(1_000_000)
        text = text[:-1]
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    if "," in text and "." in text:
        # The separator that comes last is the decimal one.
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif "," in text:
        head, _comma, tail = text.rpartition(",")
        text = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else text.replace(",", "")
    try:
        value = Decimal(text) * multiplier
    except InvalidOperation:
        raise _BadValue("bad_amount", f"bad amount {raw.strip()!r}") from None
    if not value.is_finite() or abs(value) >= Decimal("1e14"):
        raise _BadValue("bad_amount", f"bad amount {raw.strip()!r}")
    value = value.quantize(Decimal("0.01"))
    return -value if negative else value


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ].*)?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\s.*)?$")
_WORDY_DATE = re.compile(
    r"^(?:(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?|([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?)\s+(\d{4})$"
)


def _date(raw: str, *, dayfirst: bool = True, **_: Any) -> dt.date | None:
    text = raw.strip().lower()
    if not text:
        return None
    try:
        if match := _ISO_DATE.match(text):
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        if match := _NUMERIC_DATE.match(text):
            first, second, year = int(match[1]), int(match[2]), int(match[3])
            year += 2000 if year < 100 else 0
            day, month = (first, second) if dayfirst else (second, first)
            if month > 12 >= day:  # unambiguous the other way round (e.g. 12/25/2026)
                day, month = month, day
            return dt.date(year, month, day)
        if match := _WORDY_DATE.match(text):
            day_text, month_name = (match[1], match[2]) if match[1] else (match[4], match[3])
            if month_name in _MONTHS:
                return dt.date(int(match[5]), _MONTHS[month_name], int(day_text))
    except ValueError:
        pass
    raise _BadValue("bad_date", f"bad date {raw.strip()!r}")


def _probability(raw: str, **_: Any) -> float | None:
    text = raw.strip().rstrip("%").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _BadValue("bad_number", f"bad probability {raw.strip()!r}") from None
    if not 0 <= value <= 100:
        raise _BadValue("bad_number", f"probability {raw.strip()!r} is not between 0 and 100")
    return value


_TAG_SEPARATORS = re.compile(r"[,;|]")


def _tags(raw: str, **_: Any) -> list[str]:
    if not raw.strip():
        return []
    tags: list[str] = []
    for part in _TAG_SEPARATORS.split(raw):
        tag = " ".join(part.split())
        if tag and tag not in tags:
            tags.append(tag)
    return tags


@dataclass(frozen=True)
class _Field:
    synonyms: tuple[str, ...]
    parse: Callable[..., Any] = _text


LEAD_FIELDS: dict[str, _Field] = {
    "title": _Field(
        (
            "title",
            "lead",
            "lead title",
            "lead name",
            "subject",
            "opportunity",
            "opportunity name",
            "company",
            "company name",
            "business",
            "business name",
            "organisation",
            "organization",
        ),
    ),
    "contact_name": _Field(
        ("contact name", "contact", "name", "full name", "person", "contact person", "customer name")
    ),
    "email": _Field(("email", "e-mail", "email address", "e-mail address", "mail"), _email),
    "phone": _Field(
        ("phone", "phone number", "telephone", "tel", "mobile", "mobile number", "cell", "contact number"),
    ),
    "value": _Field(
        ("value", "amount", "expected revenue", "revenue", "deal value", "budget", "estimated value", "price"), _amount
    ),
    "probability": _Field(("probability", "chance", "likelihood"), _probability),
    "stage": _Field(("stage", "pipeline stage", "status", "lead status")),
    "priority": _Field(("priority", "rating")),
    "owner_name": _Field(
        ("owner", "owner name", "salesperson", "assigned to", "assignee", "sales rep", "rep", "account manager")
    ),
    "team_name": _Field(("team", "sales team", "team name")),
    "tags": _Field(("tags", "tag", "labels", "label", "category", "categories"), _tags),
    "deadline": _Field(
        ("deadline", "due date", "closing date", "expected closing", "expected close", "close date", "follow up date"),
        _date,
    ),
}
"""Lead fields a sheet can fill, with the header names they are recognised by."""


def normalize_header(name: str) -> str:
    """A header as compared: case, spaces and punctuation ignored ("E-mail Address" → "emailaddress")."""
    return re.sub(r"[\W_]+", "", name.casefold())


# ------------------------------------------------------------------ header → plan


@dataclass(frozen=True)
class ColumnPlan:
    """Which column feeds which lead field, the key column, and the unmapped columns."""

    header: tuple[str, ...]
    fields: dict[str, int]  # lead field → column index
    key_index: int | None
    extra: dict[str, int]  # unmapped header → column index (kept in metadata)
    dayfirst: bool = True

    def describe(self) -> dict[str, str]:
        """Lead field → the header it comes from (for ``sheets add`` and the API)."""
        return {name: self.header[index] for name, index in self.fields.items()}

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever the same sheet would map to different leads (part of the checksum and
        of every row digest). By header name, not position: moving a column changes nothing."""
        name = self._name
        shape = [
            sorted((field, name(index)) for field, index in self.fields.items()),
            name(self.key_index) if self.key_index is not None else None,
            sorted(normalize_header(header) for header in self.extra),
            self.dayfirst,
        ]
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]

    @cached_property
    def _by_name(self) -> Callable[[Sequence[str]], tuple[str, ...]]:
        """The cells in the order of their header names (then position, for repeated names)."""
        order = sorted(range(len(self.header)), key=lambda index: (self._name(index), index))
        pick = operator.itemgetter(*order)
        return (lambda cells: (pick(cells),)) if len(order) == 1 else pick

    def _name(self, index: int) -> str:
        return normalize_header(self.header[index])

    def row_digest(self, cells: Sequence[str]) -> str | None:
        """A digest of a row's cells by header name (None for a row of the wrong width).

        Equal digests mean the row maps to the same lead, so a sync need not map it again;
        cheaper than mapping (no parsing), and blind to the order of the columns.
        """
        if len(cells) != len(self.header):
            return None
        text = self.fingerprint + "\x1f" + "\x1f".join(self._by_name(cells))
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def plan_columns(
    header: Sequence[str],
    column_map: Mapping[str, str] | None = None,
    key_column: str | None = None,
    *,
    dayfirst: bool = True,
) -> ColumnPlan:
    """Match ``header`` to lead fields; ``SheetFormatError`` naming every problem at once."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(normalize_header(name), index)
    # The header is not quoted back: a "sheet" may be a file or an internal page, and its
    # first line would then leak through the error. Its size says enough to compare.
    shown = f"{sum(1 for name in header if name)} named column(s)"
    problems: list[str] = []
    fields: dict[str, int] = {}
    for field_name, column in (column_map or {}).items():
        if field_name not in LEAD_FIELDS:
            problems.append(f"unknown lead field {field_name!r} in the mapping (known: {', '.join(LEAD_FIELDS)})")
        elif normalize_header(column) not in positions:
            problems.append(f"column {column!r} (mapped to {field_name}) is not in the sheet's header: {shown}")
        else:
            fields[field_name] = positions[normalize_header(column)]
    taken = set(fields.values())
    for field_name, spec in LEAD_FIELDS.items():
        if field_name in fields:
            continue
        for synonym in spec.synonyms:
            position = positions.get(normalize_header(synonym))
            if position is not None and position not in taken:
                fields[field_name] = position
                taken.add(position)
                break
    for required in REQUIRED_FIELDS:
        if required not in fields and not any(required in p for p in problems):
            problems.append(
                f"no column for the required field {required!r} in the sheet's header: {shown}; "
                f"add one or map it with --map {required}=<Header>"
            )
    key_index = None
    if key_column:
        key_index = positions.get(normalize_header(key_column))
        if key_index is None:
            problems.append(f"key column {key_column!r} is not in the sheet's header: {shown}")
    if problems:
        raise SheetFormatError("; ".join(problems))
    extra = {name: index for index, name in enumerate(header) if name and index not in taken and index != key_index}
    return ColumnPlan(tuple(header), dict(sorted(fields.items(), key=lambda item: item[1])), key_index, extra, dayfirst)


# ------------------------------------------------------------------ row → lead


@dataclass(frozen=True)
class RowError:
    """A row that was skipped: its spreadsheet row number, a kind from ROW_ERROR_KINDS, why.

    ``key`` is the row's key when it can still be told (the key cell, or the identifying
    cells unchanged): the row is present, so its lead is kept as it was, not deleted.
    """

    row: int
    kind: str
    message: str
    key: str | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class SheetLead:
    """One valid row: its key, its normalised lead values and their digest."""

    row: int
    key: str
    values: dict[str, Any] = field(compare=False)
    extra: dict[str, str] = field(compare=False)
    digest: str = ""


def map_record(plan: ColumnPlan, row: int, cells: Sequence[str]) -> SheetLead | RowError:
    """The lead of one record, or why the record cannot be one (with its key when known)."""
    if len(cells) != len(plan.header):
        return RowError(
            row,
            "column_count",
            f"row {row}: {len(cells)} cells, the header has {len(plan.header)}",
            _key_of_invalid(plan, cells),
        )
    values: dict[str, Any] = {}
    for name, index in plan.fields.items():
        try:
            values[name] = LEAD_FIELDS[name].parse(cells[index], dayfirst=plan.dayfirst)
        except _BadValue as bad:
            message = f"row {row}: {bad} in column {plan.header[index]!r}"
            return RowError(row, bad.kind, message, _key_of_invalid(plan, cells))
    if not values.get("title"):
        message = f"row {row}: no title (column {plan.header[plan.fields['title']]!r} is empty)"
        return RowError(row, "missing_title", message, _key_of_invalid(plan, cells))
    values.setdefault("tags", [])
    if plan.key_index is not None:
        key = " ".join(cells[plan.key_index].split())
        if not key:
            return RowError(row, "missing_key", f"row {row}: the key column {plan.header[plan.key_index]!r} is empty")
        if len(key) > _MAX_KEY_CHARS:
            return RowError(row, "missing_key", f"row {row}: the key is longer than {_MAX_KEY_CHARS} characters")
    else:
        key = _identity_key(values)
    extra = {name: text for name, index in plan.extra.items() if (text := " ".join(cells[index].split()))}
    # The digest covers everything the lead gets from the row (str() of Decimal/date/list is exact).
    canonical = "\x1f".join(
        [key, *(f"{name}={values[name]}" for name in sorted(values)), *(f"+{k}={v}" for k, v in sorted(extra.items()))]
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return SheetLead(row, key, values, extra, digest)


def _identity_key(values: Mapping[str, Any]) -> str:
    identity = [str(values.get(name) or "").casefold() for name in IDENTIFYING_FIELDS]
    return hashlib.sha256("\x1f".join(identity).encode()).hexdigest()[:20]


def _key_of_invalid(plan: ColumnPlan, cells: Sequence[str]) -> str | None:
    """The key of a row that cannot become a lead, when it can still be told; else None.

    With a key column: its cell. Without one: the hash of the identifying cells, each
    normalised where it can be and taken as plain text where it cannot, so a row whose
    identifying cells are unchanged still finds its lead (a row whose e-mail was changed to
    something invalid has a new identity: there is nothing to match it to).
    """
    if plan.key_index is not None:
        if plan.key_index >= len(cells):
            return None
        key = " ".join(cells[plan.key_index].split())
        return key if key and len(key) <= _MAX_KEY_CHARS else None
    values: dict[str, Any] = {}
    for name in IDENTIFYING_FIELDS:
        index = plan.fields.get(name)
        if index is None:
            continue
        if index >= len(cells):
            return None
        try:
            values[name] = LEAD_FIELDS[name].parse(cells[index], dayfirst=plan.dayfirst)
        except _BadValue:
            values[name] = " ".join(cells[index].split()).lower()
    return _identity_key(values) if values.get("title") else None


def source_email_id(customer_id: int, key: str) -> str:
    """The lead's unique id across sources: ``sheet_<customer id>_<row key>``."""
    return f"sheet_{customer_id}_{key}"
