"""The pytest plugin, as installed (pytest11 entry point): its fixtures and its Monte Carlo scale option,
run in a fresh pytest process on a small suite written here."""
import json
import subprocess
import sys

import numpy as np
import pytest
import refimpl
from refimpl.laws import datasets
from refimpl.testing import monte_carlo_size, scale, set_scale

SUITE = '''
import json, os
import refimpl.testing as rt

def test_fixtures(refimpl_rng, refimpl_small_law, refimpl_coupled_law):
    out = {"draw": refimpl_rng.random(3).tolist(), "small": refimpl_small_law.tolist(),
           "coupled": refimpl_coupled_law.tolist(), "samples": rt.monte_carlo_size(rt.SAMPLES)}
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps(out) + "\\n")

def test_another(refimpl_rng):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps({"other": refimpl_rng.random(3).tolist()}) + "\\n")
'''


def run(tmp_path, *options, env=None):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_user.py").write_text(SUITE)
    out = tmp_path / "out.jsonl"
    out.unlink(missing_ok=True)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options], cwd=tmp_path,
                            capture_output=True, text=True, env={**__import__("os").environ, "OUT": str(out), **(env or {})},
                            timeout=120)
    return result, [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def test_fixtures_are_seeded_per_test_and_the_same_in_every_run(tmp_path):
    first, rows = run(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    again, rows_again = run(tmp_path)
    assert rows == rows_again
    assert rows[0]["draw"] != rows[1]["other"]  # two tests, two streams
    np.testing.assert_array_equal(rows[0]["small"], datasets.dirichlet(3, 3, np.random.default_rng(20251203), 0.5).table)
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[2, 3] = 0.5
    np.testing.assert_array_equal(rows[0]["coupled"], expected)
    shifted, rows_shifted = run(tmp_path, "--refimpl-seed", "7")
    assert rows_shifted[0]["draw"] != rows[0]["draw"]


def test_the_monte_carlo_scale_option_and_environment_variable(tmp_path):
    assert run(tmp_path)[1][0]["samples"] == 20000
    assert run(tmp_path, "--refimpl-mc-scale", "10")[1][0]["samples"] == 200000
    assert run(tmp_path, env={"REFIMPL_MC_SCALE": "0.5"})[1][0]["samples"] == 10000
    bad, _ = run(tmp_path, "--refimpl-mc-scale", "-1")
    assert bad.returncode != 0 and "must be a number > 0" in bad.stdout + bad.stderr
    header, _ = run(tmp_path, "-v", "--refimpl-mc-scale", "3")  # -q -v: the header shows
    assert "refimpl.testing: Monte Carlo scale 3" in header.stdout


def test_scale_in_process():
    before = scale()
    try:
        set_scale(2.5)
        assert scale() == 2.5 and monte_carlo_size(1000) == 2500
        for bad in (0, -1, "x", float("inf")):
            with pytest.raises(refimpl.RefimplError):
                set_scale(bad)
    finally:
        set_scale(None)
    assert scale() == before
