"""The public names carry numpydoc docstrings with a runnable example, and the suite runs every example
(the equivalent of ``--doctest-modules`` for the public API: refimpl.__all__, the sampler families and
refimpl.testing)."""
import doctest
import inspect
import types

import numpy as np
import pytest
import refimpl
import refimpl.testing


def public_names():
    """(qualified name, object) of every documented public name: callables, classes and modules."""
    found = {}
    for package, names in ((refimpl, refimpl.__all__), (refimpl.samplers, refimpl.samplers.__all__),
                           (refimpl.testing, refimpl.testing.__all__), (refimpl.engine, refimpl.engine.__all__)):
        for name in names:
            value = getattr(package, name)
            if callable(value) or isinstance(value, types.ModuleType):
                found.setdefault(f"{package.__name__}.{name}", value)
    return sorted(found.items())


NAMES = public_names()


def sections(doc):
    return {line.strip() for line, rule in zip(doc.splitlines(), doc.splitlines()[1:]) if set(rule.strip()) == {"-"}}


@pytest.mark.parametrize("name, value", NAMES, ids=[name for name, _ in NAMES])
def test_the_public_name_has_a_numpydoc_docstring_with_an_example(name, value):
    doc = inspect.getdoc(value) or ""
    assert ">>> " in doc and "Examples" in sections(doc), f"{name}: no Examples section with a >>> example"
    lines = doc.splitlines()
    order = [line.strip() for line, rule in zip(lines, lines[1:]) if set(rule.strip()) == {"-"}]
    assert order[-1] == "Examples", f"{name}: the Examples section comes last (numpydoc), not {order}"
    for header, rule, first in zip(lines, lines[1:], lines[2:]):
        if header.strip() in ("Parameters", "Returns") and set(rule.strip()) == {"-"}:
            indent = len(header) - len(header.lstrip())
            assert len(first) - len(first.lstrip()) == indent, f"{name}: {header.strip()} entries start under the header"
    if inspect.isfunction(value) and len(inspect.signature(value).parameters):
        assert "Parameters" in sections(doc), f"{name}: no Parameters section"
    if inspect.isclass(value) and dataclass_fields(value):
        assert "Parameters" in sections(doc), f"{name}: no Parameters section"


def dataclass_fields(cls):
    import dataclasses

    return dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()


@pytest.mark.parametrize("name, value", NAMES, ids=[name for name, _ in NAMES])
def test_the_examples_run(name, value):
    finder = doctest.DocTestFinder(recurse=False)
    tests = [t for t in finder.find(value, name, globs={"np": np, "refimpl": refimpl}) if t.examples]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 1, f"{name}: {runner.failures} of {runner.tries} examples fail"
