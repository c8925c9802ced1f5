"""proofs/*.md and the tests that check them stay in step: every "Checked by:" reference names an
existing test whose docstring names the proof, and every proof a test names exists."""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROOFS = ROOT / "proofs"


def docstrings_of_tests():
    """Map 'tests/file.py::function' -> docstring for every test function."""
    found = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found[f"{path.relative_to(ROOT).as_posix()}::{node.name}"] = ast.get_docstring(node) or ""
    return found


def checked_by():
    references = {}
    for proof in sorted(PROOFS.glob("*.md")):
        if proof.name == "README.md":
            continue
        lines = [line for line in proof.read_text().splitlines() if line.startswith("Checked by:")]
        assert len(lines) == 1, f"{proof.name} must end with one 'Checked by:' line"
        references[proof.name] = [ref.strip() for ref in lines[0][len("Checked by:"):].split(",") if ref.strip()]
    return references


def test_every_checked_by_reference_is_a_test_that_names_the_proof():
    docstrings = docstrings_of_tests()
    references = checked_by()
    assert len(references) >= 6
    for proof, tests in references.items():
        assert tests, f"{proof} names no test"
        for ref in tests:
            assert ref in docstrings, f"{proof}: 'Checked by' names {ref}, which does not exist"
            assert f"proofs/{proof}" in docstrings[ref], f"{ref} must name proofs/{proof} in its docstring"


def test_every_proof_a_test_names_exists_and_lists_it():
    references = checked_by()
    for test, docstring in docstrings_of_tests().items():
        for proof in re.findall(r"proofs/([\w.]+\.md)", docstring):
            assert (PROOFS / proof).exists(), f"{test} names proofs/{proof}, which does not exist"
            assert test in references[proof], f"{test} names proofs/{proof} but is not in its 'Checked by' line"


def test_every_proof_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    for proof in checked_by():
        assert f"proofs/{proof}" in readme, f"README must link proofs/{proof}"
