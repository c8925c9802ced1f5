"""What an experiment returns: named tables plus scalar findings, printable and JSON-ready."""
import dataclasses
import math

from tabulate import tabulate


def letters(tokens, names=None):
    """Token ids as letters: ``[0, 1] -> 'AB'`` (the paper writes its tokens A, B, C, ...), or, given the
    vocabulary ``names``, as those names separated by spaces."""
    if names is not None:
        return " ".join(str(names[int(t)]) for t in tokens)
    return "".join(chr(ord("A") + int(t)) if 0 <= int(t) < 26 else f"<{int(t)}>" for t in tokens)


@dataclasses.dataclass(frozen=True)
class Table:
    title: str
    headers: tuple
    rows: tuple


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
        parts = [f"== {self.title} =="]
        for table in self.tables:
            parts.append(f"\n{table.title}")
            parts.append(tabulate(table.rows, headers=table.headers, floatfmt=".6g"))
        if self.findings:
            parts.append("")
            rows = [(k, str(v) if isinstance(v, bool) else v) for k, v in sorted(self.findings.items())]
            parts.append(tabulate(rows, headers=("finding", "value"), floatfmt=".6g"))
        parts.extend(f"note: {note}" for note in self.notes)
        return "\n".join(parts)
