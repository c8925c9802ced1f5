"""Golden vectors: deterministic bytes, --check passes, and catches an altered number by name.

``tests/data/vectors-v1.json`` is committed: this refimpl must reproduce it (within the tolerances the file
states), so a changed value fails naming its case and field.  Regenerating it is a deliberate act, for a
change of value that is intended and explained in CHANGELOG.md:
``refimpl vectors --out tests/data/vectors-v1.json`` (a new schema gets a new file name).
"""
import io
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import refimpl
from refimpl.cli.main import main
from refimpl.interop import vectors

pytestmark = pytest.mark.xdist_group("vectors")  # one worker computes the shared fixture


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vectors")
    first, second = folder / "a.json", folder / "b.json"
    assert main(["vectors", "--out", str(first)], out=io.StringIO()) == 0
    # a second run in a fresh process: identical bytes across process restarts
    subprocess.run([sys.executable, "-m", "refimpl", "vectors", "--out", str(second)], check=True,
                   stdout=subprocess.DEVNULL)
    return first, second


COMMITTED = pathlib.Path(__file__).resolve().parents[1] / "data" / "vectors-v1.json"


def test_the_committed_vectors_are_reproduced():
    assert json.loads(COMMITTED.read_text())["schema"] == vectors.SCHEMA == "refimpl-vectors/1"
    problems = vectors.check(COMMITTED)
    assert problems == [], "refimpl no longer reproduces tests/data/vectors-v1.json:\n" + "\n".join(problems)


def test_the_committed_vectors_are_those_a_fresh_run_writes(golden):
    """Same cases, same inputs, in the same order (values are compared within tolerance above)."""
    committed, fresh = json.loads(COMMITTED.read_text()), json.loads(golden[0].read_text())
    assert [(c["name"], c["inputs"]) for c in committed["cases"]] == [(c["name"], c["inputs"]) for c in fresh["cases"]]


def test_two_runs_write_identical_bytes(golden):
    first, second = golden
    assert first.read_bytes() == second.read_bytes()


def test_check_passes_on_a_fresh_file(golden):
    assert main(["vectors", "--check", str(golden[0])], out=io.StringIO()) == 0


def test_check_covers_every_family(golden):
    data = json.loads(golden[0].read_text())
    kinds = {case["kind"] for case in data["cases"]}
    assert kinds == {"law", "schedule", "forward", "oracle", "nelbo", "sampler", "mlp", "uniform_forward",
                     "uniform_oracle", "uniform_sampler"}
    families = {case["inputs"]["sampler"].split("(")[0] for case in data["cases"] if case["kind"] == "sampler"}
    assert families == {entry.cls.__name__ for entry in refimpl.samplers.FAMILIES.values()}  # every family has vectors
    from refimpl.samplers.uniform_registry import UNIFORM_FAMILIES

    uniform = {case["inputs"]["sampler"].split("(")[0] for case in data["cases"] if case["kind"] == "uniform_sampler"}
    assert uniform == {entry.cls.__name__ for entry in UNIFORM_FAMILIES.values()}  # and every family without a mask
    options = " ".join(case["inputs"]["sampler"] for case in data["cases"] if case["kind"] == "sampler")
    for option in ("cfg_scale", "logits_eos_inf", "confidence_eos_eot_inf", "eos_rule='intent'", "'cap'", "'rescale'",
                   "'loop'", "gamma",
                   "editing_threshold=0.5", "editing_threshold=0.0", "edit_rule='intent'", "'conf'", "conf_sigma='cap'"):
        assert option in options
    guided = [case for case in data["cases"] if case["kind"] == "sampler" and "cfg_scale=1.5" in case["inputs"]["sampler"]]
    assert [case["outputs"]["expected_calls"] for case in guided] == [4.0]  # two model evaluations per step


def test_sampler_vectors_hold_the_expected_model_calls(golden, tmp_path):
    data = json.loads(golden[0].read_text())
    calls = {case["inputs"]["sampler"]: case["outputs"]["expected_calls"] for case in data["cases"]
             if case["kind"] == "sampler" and case["inputs"]["prompt"] is None}
    assert calls["LLaDA(steps=3, temperature=0.7)"] == 3 and calls["FirstHitting()"] == 3
    # MDLM's cache on the ideal linear 6-step grid: each of 3 masks is revealed at a step w.p. 1/6, independently
    ideal = 1 + 5 * (1 - (5 / 6) ** 3)
    assert calls["Ancestral(Linear(), steps=6, cache=True, grid='float64')"] == pytest.approx(ideal, rel=1e-12)
    # and on the code's float32 grid (tests/samplers/test_grids32.py) the same to float32 rounding
    assert calls["Ancestral(Linear(), steps=6, cache=True)"] == pytest.approx(ideal, rel=1e-6)
    laws = {case["inputs"]["sampler"]: np.array(case["outputs"]["law"]["data"]) for case in data["cases"]
            if case["kind"] == "sampler" and case["inputs"]["prompt"] is None}
    # Dream, eps = 0.25, 3 masks: the float32 grid keeps no token on the second step, the float64 grid one
    name = "Dream(steps=3, alg='entropy', temperature=0.8, eps=0.25{})"
    code, ideal_law = laws[name.format("")], laws[name.format(", grid='float64'")]
    assert 0.5 * np.abs(code - ideal_law).sum() > 0.1
    for name in ("LLaDA(steps=3, temperature=0.7{})", "Ancestral(Linear(), steps=3{})"):  # bfloat16 draws differ
        ideal_draws, low = laws[name.format("")], laws[name.format(", precision='bfloat16'")]
        assert 0.5 * np.abs(low - ideal_draws).sum() > 1e-4
    assert 1 < calls["Threshold(threshold=0.6, temperature=1.0)"] < 3
    assert calls["Threshold(threshold=0.6, block_length=1, temperature=1.0)"] == pytest.approx(3, abs=1e-12)  # one per block
    index = next(i for i, c in enumerate(data["cases"]) if c["inputs"].get("sampler", "").startswith("Threshold"))
    data["cases"][index]["outputs"]["expected_calls"] += 1e-6
    altered = tmp_path / "calls.json"
    altered.write_text(json.dumps(data))
    assert any(".outputs.expected_calls" in problem for problem in vectors.check(altered))


def test_check_fails_naming_the_altered_field(golden, tmp_path):
    data = json.loads(golden[0].read_text())
    index = next(i for i, c in enumerate(data["cases"]) if c["name"].startswith("sampler LLaDA(steps=3"))
    data["cases"][index]["outputs"]["law"]["data"][5] += 1e-6
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(data))
    out = io.StringIO()
    assert main(["vectors", "--check", str(altered), "--json"], out=out) == 1
    report = json.loads(out.getvalue())["reports"][0]
    rows = report["tables"][0]["rows"]
    assert len(rows) == 1 and rows[0][0].startswith(f"cases[{index}] (sampler LLaDA(steps=3")
    assert ".outputs.law[5]" in rows[0][0]


def test_malformed_and_foreign_files_are_refused(golden, tmp_path, capsys):
    text = golden[0].read_text()
    cases = {"truncated.json": text[: len(text) // 2], "foreign.json": json.dumps({"hello": 1}),
             "old.json": text.replace(vectors.SCHEMA, "refimpl-vectors/0", 1),
             "broken.json": json.dumps({"schema": vectors.SCHEMA, "cases": [{"name": "x"}]})}
    needles = {"truncated.json": "not valid JSON", "foreign.json": "no schema", "old.json": "refimpl-vectors/0",
               "broken.json": "malformed"}
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
        assert main(["vectors", "--check", str(tmp_path / name)], out=io.StringIO()) == 2
        assert needles[name] in capsys.readouterr().err


def test_uniform_vectors_hold_what_is_known_of_them(golden):
    """The leave-one-out oracle's uniform NELBO is H(p) (proofs/uniform_nelbo.md), the samplers without a stop
    make every call, and the uniform forward law at alpha is the data law pushed through the one-token kernel."""
    data = json.loads(golden[0].read_text())
    cases = {case["name"]: case for case in data["cases"]}
    p = np.array(cases["law"]["inputs"]["p"]["data"]).reshape(3, 3, 3)
    assert cases["uniform oracles alpha_t=0.4"]["outputs"]["nelbo_leave_one_out"] == pytest.approx(
        refimpl.entropy(p), abs=1e-8)
    kernel = 0.3 * np.eye(3) + 0.7 / 3
    pushed = np.einsum("abc,ad,be,cf->def", p, kernel, kernel, kernel)
    law = cases["uniform forward alpha_t=0.3"]["outputs"]["law_of_x_t"]
    np.testing.assert_allclose(np.array(law["data"]).reshape(law["shape"]), pushed, atol=1e-15)
    for name, case in cases.items():
        if case["kind"] == "uniform_sampler" and "confidence_threshold=None" in name:
            assert case["outputs"]["expected_calls"] == pytest.approx(3.0, abs=1e-12)
