"""docs/testing.md's example test files, run as a user would (each in a fresh pytest, its own folder)."""
import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def examples():
    blocks = re.findall(r"```python\n# (test_\w+\.py)\n(.*?)```", DOC.read_text(), re.S)
    return {name: code for name, code in blocks}


def test_the_guide_holds_the_five_example_files_of_about_twenty_lines():
    files = examples()
    assert set(files) == {"test_numpy_sampler.py", "test_loss.py", "test_torch_model.py", "test_torch_sampler.py",
                          "test_diffusers_scheduler.py"}
    assert all(10 <= len(code.strip().splitlines()) <= 30 for code in files.values())


@pytest.mark.parametrize("name", sorted(examples()))
def test_each_example_file_passes(name, tmp_path):
    code = examples()[name]
    for module in ("torch", "diffusers"):
        if module in code and importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / name).write_text("# " + name + "\n" + code)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\b[1-9]\d* passed", run.stdout)


def test_the_table_of_families_is_the_registrys():
    """docs/testing.md's generated section equals what refimpl.testing.reference makes of the registry now."""
    from refimpl.testing.reference import rewrite

    text = DOC.read_text()
    assert rewrite(text) == text, "run: python -m refimpl.testing.reference docs/testing.md"


def test_every_family_and_parameter_is_in_the_table():
    import dataclasses

    from refimpl.samplers.registry import FAMILIES

    text = DOC.read_text()
    for name, family in FAMILIES.items():
        assert f"#### `{name}` ({family.cls.__name__})" in text
        for field in dataclasses.fields(family.cls):
            assert f"| `{field.name}` |" in text
