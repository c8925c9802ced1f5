"""examples/user_suite, a user's own suite using refimpl.testing and pytest alone, run as a user runs it:
the correct LLaDA-style sampler and loss pass; the sampler ranking by tempered probabilities fails naming
outputs; the loss with w(t) = 1 fails with the size of its error in nats."""
import ast
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUITE = ROOT / "examples" / "user_suite"


def test_the_user_suite_imports_only_refimpl_testing_pytest_and_its_own_code():
    for path in SUITE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name in ("pytest", "refimpl.testing", "numpy", "functools", "implementations"), (path.name, name)


def test_the_user_suite_passes_the_correct_implementations_and_fails_the_slips_with_useful_messages(tmp_path):
    report = tmp_path / "report.xml"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
                         cwd=SUITE, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr  # two tests fail, on purpose
    cases = {case.get("name"): case for case in ET.parse(report).getroot().iter("testcase")}
    assert set(cases) == {"test_llada_generate_follows_refimpls_law",
                          "test_llada_generate_ranking_by_tempered_probabilities",
                          "test_mdlm_loss_is_the_nelbo", "test_mdlm_loss_without_its_weight"}
    failed = {name: case.find("failure") for name, case in cases.items()}
    assert failed["test_llada_generate_follows_refimpls_law"] is None and failed["test_mdlm_loss_is_the_nelbo"] is None
    sampler = failed["test_llada_generate_ranking_by_tempered_probabilities"].get("message")
    assert "do not follow the exact law" in sampler and "as LLaDA(steps=3" in sampler
    over = sampler.split("most over-represented:\n")[1].splitlines()[:3]
    assert all(re.match(r"\s+[0-2] [0-2] [0-2]: observed \d+, expected [0-9.]+", line) for line in over), over
    loss = failed["test_mdlm_loss_without_its_weight"].get("message")
    assert re.search(r"error -[0-9.]+ nats \(-[0-9.]+%\)", loss) and "without the weight w(t)" in loss
