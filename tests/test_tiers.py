"""tests/tiers.py names tests that exist: every entry's file holds the test function it names, and the slow tier is
what pytest deselects from the suite."""
import ast
import pathlib
import re

from tests.tiers import SLOW, is_slow, pattern

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_every_entry_names_a_test_function_of_an_existing_file():
    for entry in SLOW:
        path, _, name = entry.partition("::")
        functions = {node.name for node in ast.walk(ast.parse((ROOT / path).read_text()))
                     if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
        head = re.split(r"[\[*]", name)[0]
        assert any(f.startswith(head) for f in functions) if head else functions, entry


def test_patterns_match_node_ids_literally_but_for_the_star():
    assert pattern("a.py::t[x-oracle]").match("a.py::t[x-oracle]")
    assert not pattern("a.py::t[x-oracle]").match("a.py::t[y-oracle]")  # brackets are no character class
    assert pattern("a.py::t[*-oracle]").match("a.py::t[LLaDA(steps=4, tie='lowest')-oracle]")
    assert not pattern("a.py::t[*-oracle]").match("a.py::t[LLaDA(steps=4)-random]")
    assert is_slow("tests/test_benchmarks.py::test_quick_runner_runs_and_records_the_machine@benchmarks")
    assert not is_slow("tests/test_benchmarks.py::test_quick_runner_runs_and_records_the_machine_elsewhere")


def test_an_entry_whose_file_is_collected_must_match_one_of_its_tests():
    from tests.tiers import unmatched

    slow, stale = unmatched(["tests/testing/test_power.py::test_x", "tests/samplers/test_cases.py::test_y[z-random]"])
    assert slow == [True, False]
    assert "tests/samplers/test_cases.py::test_draws_follow_the_exact_law_and_the_exact_calls[*-oracle]" in stale
    assert stale == [entry for entry in SLOW if entry.startswith("tests/samplers/test_cases.py::")]  # (no other file)
