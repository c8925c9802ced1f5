"""The README opens with the two set-up commands, and .ci/run runs exactly the test command."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```(?:sh|bash)?\n(.*?)```", text, re.S).group(1)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_two_pip_install_commands():
    main_job, tests = readme_commands()[:2]
    assert main_job.startswith("pip install ") and main_job.endswith("&& refimpl paper")
    assert tests.startswith("pip install ") and "&& python -m pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in [line.strip() for line in ci]
