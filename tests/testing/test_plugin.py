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


SEEDED = '''
import json, os
import numpy as np, refimpl
import refimpl.testing as rt

P = refimpl.datasets.coupled_pairs().table
ORACLE = refimpl.oracle_denoiser(P)

def recording(name):
    def sample_fn(denoiser, n, rng, length, vocab_size, prompt):
        with open(os.environ["OUT"], "a") as f:
            f.write(json.dumps({name: rng.random(2).tolist()}) + "\\n")
        return refimpl.sample(denoiser, refimpl.samplers.LeftToRight(), n, rng, length, vocab_size, prompt)
    return sample_fn

def test_one():
    rt.assert_sampler_matches(recording("one, first call"), refimpl.samplers.LeftToRight(), ORACLE, P, n=200)
    rt.assert_sampler_matches(recording("one, second call"), refimpl.samplers.LeftToRight(), ORACLE, P, n=200)

def test_two():
    rt.assert_sampler_matches(recording("two"), refimpl.samplers.LeftToRight(), ORACLE, P, n=200)
'''


def run_seeded(tmp_path, *options):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_user.py").write_text(SEEDED)
    out = tmp_path / "out.jsonl"
    out.unlink(missing_ok=True)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options], cwd=tmp_path,
                            capture_output=True, text=True, env={**__import__("os").environ, "OUT": str(out)},
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return {k: v for line in out.read_text().splitlines() for k, v in json.loads(line).items()}


def test_sampling_assertions_without_a_seed_draw_from_the_tests_seed(tmp_path, request):
    from refimpl.testing import next_seed, settings

    draws = run_seeded(tmp_path)
    assert len({tuple(v) for v in draws.values()}) == 3  # two tests, two calls in one: three streams
    assert run_seeded(tmp_path) == draws  # the same on every run
    shifted = run_seeded(tmp_path, "--refimpl-seed", "1")
    assert all(shifted[k] != draws[k] for k in draws)  # --refimpl-seed re-rolls every one
    # independently: the stream test_two's call drew is default_rng of SeedSequence([crc32(node id), 0])'s first word
    base = settings.node_seed("test_user.py::test_two")
    word = int(np.random.SeedSequence([base, 0]).generate_state(1, np.uint32)[0])
    assert draws["two"] == np.random.default_rng(word).random(2).tolist()
    # and this very test, run by the plugin too: its first seedless draw
    base = settings.node_seed(request.node.nodeid, request.config.getoption("--refimpl-seed"))
    assert next_seed() == int(np.random.SeedSequence([base, 0]).generate_state(1, np.uint32)[0])


def test_outside_the_plugins_tests_the_seed_is_0_and_a_failure_names_its_seed():
    from refimpl.testing import settings

    saved = settings._test
    settings.start_test(None)
    try:
        assert settings.next_seed() == 0
        p = refimpl.datasets.coupled_pairs()

        def wrong(denoiser, n, rng, length, vocab_size, prompt):
            return np.tile([0, 3], (n, 1))  # always AD, which the law never makes

        with pytest.raises(AssertionError, match=r"as LeftToRight\(\), seed 0\)"):
            refimpl.testing.assert_sampler_matches(wrong, refimpl.samplers.LeftToRight(), refimpl.oracle_denoiser(p), p,
                                                   n=100)
    finally:
        settings._test = saved
