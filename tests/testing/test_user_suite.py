"""examples/user_suite, a user's own suite using refimpl.testing, torch and pytest alone, run as a user runs it: the
correct torch LLaDA sampler and the loss pass; five slips of the sampler each fail with a message naming that slip
(and no other); a single block is warned to be blind to the block-boundary slip; the loss with w(t) = 1 fails with
the size of its error in nats."""
import ast
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import refimpl.testing as rt

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUITE = ROOT / "examples" / "user_suite"
NAMED = {"steps": "one step too few per block (steps=2)", "temperature_twice": "temperature applied twice",
         "tempered_confidence": "confidence from tempered probabilities",
         "block_boundary": "the block's end one position late", "mask_column": "the mask column left in the softmax"}


def test_the_user_suite_imports_only_refimpl_testing_torch_pytest_and_its_own_code():
    for path in SUITE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name in ("pytest", "refimpl.testing", "numpy", "torch", "functools", "implementations"), \
                    (path.name, name)


def test_the_suites_law_shows_each_of_its_five_slips_by_tv_at_least_0_3():
    """conftest.py's claim about its law, checked: propose_setting takes the suite's own setting at once."""
    law = np.random.default_rng(17).dirichlet(np.full(3 ** 4, 0.5)).reshape(3, 3, 3, 3)
    sampler = rt.sampler("llada", steps=4, block_length=2, temperature=0.3)
    kinds = [name.split(" (")[0] for name in NAMED.values()]
    setting = rt.propose_setting(sampler, p=law, min_tv=0.3, slips=kinds)
    assert setting.reaches and setting.sampler == sampler and len(setting.tvs) == 5, setting


def test_the_user_suite_passes_the_correct_implementations_and_fails_the_slips_naming_each(tmp_path):
    pytest.importorskip("torch")
    report = tmp_path / "report.xml"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
                         cwd=SUITE, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr  # six tests fail, on purpose
    cases = {case.get("name"): case for case in ET.parse(report).getroot().iter("testcase")}
    slips = {f"test_llada_generate_with_a_slip[{slip}]": name for slip, name in NAMED.items()}
    assert set(cases) == {"test_llada_generate_follows_refimpls_law", "test_one_block_cannot_see_the_block_boundary_slip",
                          "test_mdlm_loss_is_the_nelbo", "test_mdlm_loss_without_its_weight"} | set(slips)
    failed = {name: case.find("failure") for name, case in cases.items()}
    for name in ("test_llada_generate_follows_refimpls_law", "test_mdlm_loss_is_the_nelbo",
                 "test_one_block_cannot_see_the_block_boundary_slip"):
        assert failed[name] is None, name
    for test, slip in slips.items():
        message = failed[test].get("message")
        fits = re.search(r"the sample fits 1 of the usual slips of LLaDA \(chi-square p > alpha = 0.001\): (.*)", message)
        assert fits and fits.group(1).startswith(slip), (test, message)
    loss = failed["test_mdlm_loss_without_its_weight"].get("message")
    assert re.search(r"error -[0-9.]+ nats \(-[0-9.]+%\)", loss) and "without the weight w(t)" in loss
