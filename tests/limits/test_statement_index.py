"""proofs/theory_statements.md, the index of ../shared/THEORY.md's statements: every test it names exists, and a
statement checked directly (its row starts with the test) has a test carrying the statement in its name (issue
#39's acceptance: each checkable statement has a test named after it)."""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_every_test_the_index_names_exists_and_carries_the_statement_in_its_name():
    """The rows of proofs/theory_statements.md against the test files."""
    rows = [line.split("|")[1:3] for line in (ROOT / "proofs" / "theory_statements.md").read_text().splitlines()
            if re.match(r"\| [A-Z]+\d+ \|", line)]
    assert len(rows) >= 60
    for statement, where in rows:
        statement, where = statement.strip(), where.strip()
        for path, name in re.findall(r"(tests/[\w/]+\.py)::(\w+)", where):
            tree = ast.parse((ROOT / path).read_text())
            assert name in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, f"{statement}: {name}"
        if where.startswith("tests/"):
            name = where.split("::")[1].split()[0]
            assert statement in re.findall(r"[A-Z]+\d+", name), f"{statement} is checked by {name}, not named after it"
