"""What an experiment returns: named tables plus scalar findings, printable and JSON-ready."""
import dataclasses
import math
import re
import textwrap

from tabulate import tabulate


def letters(tokens, names=None):
    """Token ids as letters: ``[0, 1] -> 'AB'`` (the paper writes its tokens A, B, C, ...), or, given the
    vocabulary ``names``, as those names separated by spaces."""
    if names is not None:
        return " ".join(str(names[int(t)]) for t in tokens)
    return "".join(chr(ord("A") + int(t)) if 0 <= int(t) < 26 else f"<{int(t)}>" for t in tokens)


def tokens(sequence, names=None, as_letters=False):
    """A sequence as a user reads it in every table: its token ids separated by spaces (``[0, 1] -> '0 1'``; the
    mask, id V, as M when ``vocab_size`` matters is the caller's), or the vocabulary's ``names``, or with
    ``as_letters`` the paper's letters (``'AB'``, :func:`letters`)."""
    if names is not None or as_letters:
        return letters(sequence, names)
    return " ".join(str(int(t)) for t in sequence)


WIDTH = 100  # table titles and notes wrap here in text; the tables are as wide as their columns
ROUNDING = 1e-12  # a KL (nats) or TV within this of 0 is an exact 0 up to float64 rounding


def _names_kl_or_tv(name):
    return re.search(r"(?<![A-Za-z])(KL|TV|kl|tv)(?![a-z])", str(name)) is not None


def _rounded(value):
    """0.0 for a float within ROUNDING of 0 (a quantity known to be >= 0), else the value."""
    if isinstance(value, float) and -ROUNDING < value < ROUNDING:
        return 0.0
    return value


@dataclasses.dataclass(frozen=True)
class Table:
    """A titled table.  ``nonnegative``: the columns whose quantity is known to be >= 0 (a KL, a TV); by default
    those whose header names KL or TV.  In text they print a value within :data:`ROUNDING` of 0 as 0 (the float64
    rounding of an exact 0, e.g. -1.97e-16); JSON keeps every value as computed."""

    title: str
    headers: tuple
    rows: tuple
    nonnegative: "tuple | None" = None

    def nonnegative_columns(self):
        if self.nonnegative is not None:
            return set(self.nonnegative)
        return {k for k, header in enumerate(self.headers) if _names_kl_or_tv(header)}


@dataclasses.dataclass(frozen=True)
class Report:
    """An experiment's result: ``tables`` to print and ``findings`` (name -> number) to check."""

    name: str
    title: str
    tables: tuple
    findings: dict
    notes: tuple = ()

    def to_json(self):
        """A JSON-ready dict (floats that are inf become the string "inf")."""
        def clean(value):
            if isinstance(value, float) and not math.isfinite(value):
                return str(value)
            if isinstance(value, (list, tuple)):
                return [clean(v) for v in value]
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            return value
        return clean({
            "name": self.name,
            "title": self.title,
            "tables": [{"title": t.title, "headers": list(t.headers), "rows": [list(r) for r in t.rows]}
                       for t in self.tables],
            "findings": dict(self.findings),
            "notes": list(self.notes),
        })

    def to_text(self):
        """The tables and findings for a person: KLs and TVs within :data:`ROUNDING` of 0 as 0 (:class:`Table`;
        a finding whose name mentions KL or TV likewise)."""
        parts = [f"== {self.title} =="]
        for table in self.tables:
            parts.append("\n" + textwrap.fill(table.title, WIDTH))
            columns = table.nonnegative_columns()
            rows = [tuple(_rounded(v) if k in columns else v for k, v in enumerate(row)) for row in table.rows]
            parts.append(tabulate(rows, headers=table.headers, floatfmt=".6g"))
        if self.findings:
            parts.append("")
            rows = [(k, str(v) if isinstance(v, bool) else _rounded(v) if _names_kl_or_tv(k) else v)
                    for k, v in sorted(self.findings.items())]
            if any(isinstance(v, str) for _, v in rows):  # a column of words and numbers: the numbers as .6g too
                rows = [(k, format(v, ".6g") if isinstance(v, float) else v) for k, v in rows]
            parts.append(tabulate(rows, headers=("finding", "value"), floatfmt=".6g"))
        parts.extend(textwrap.fill(f"note: {note}", WIDTH, subsequent_indent="      ") for note in self.notes)
        return "\n".join(parts)
