"""The benchmark runner runs every benchmark and writes its result files (``--smoke``: each at its smallest; timings
are never asserted), and the frontier it computes obeys the theorems."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.xdist_group("benchmarks")  # one worker computes the shared fixture

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """``python -m benchmarks --smoke`` run once: (its output, the folder of its result files).  The smoke run is
    the quick one at the smallest sizes (its frontier's oracle rows are the quick run's; the trained MLP has 100
    steps); ``python -m benchmarks --quick`` itself runs from the full benchmarks."""
    folder = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, REFIMPL_BENCH_RESULTS=str(folder))
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, folder


def test_quick_runner_runs_and_records_the_machine(quick_results):
    stdout, tmp_path = quick_results
    assert "== targets ==" in stdout and ("PASS" in stdout or "MISS" in stdout)
    for name in ("oracle", "samplers", "stages", "families", "frontier", "revise", "training", "precision", "limits",
                 "sweeps", "imports", "serving", "uniform", "theory"):
        result = json.loads((tmp_path / f"{name}.json").read_text())
        assert result["quick"] is True and result["machine"]["cores"] >= 1 and result["machine"]["numpy"]
        assert result["benchmark"] == name and (result.get("cases") or result.get("tasks"))


def test_frontier_keeps_the_settings_nothing_beats_on_calls_and_loss():
    from refimpl.experiments.frontier import undominated

    rows = [{"label": name, "expected_calls": calls, "kl_p_q": kl} for name, calls, kl in [
        ("one step", 1.0, 2.0), ("also one step", 1.0, 2.0), ("slower, worse", 2.0, 2.5), ("slower, better", 2.0, 1.0),
        ("as fast, worse", 2.0, 1.5), ("slowest, exact", 5.0, 0.0), ("slowest, worse", 5.0, 0.3)]]
    assert [row["label"] for row in undominated(rows)] == ["one step", "also one step", "slower, better", "slowest, exact"]


def test_frontier_rows_obey_the_theorems(quick_results):
    # with the oracle: one step loses exactly TC(p); one token per step in a value-independent order nothing
    cases = json.loads((quick_results[1] / "frontier.json").read_text())["cases"]
    assert [c["denoiser"] for c in cases] == ["oracle", "trained MLP"]
    for c in cases:  # the samplers that revise and bound sit next to the reveal-only ones, for both denoisers
        labels = " ".join(row["label"] for row in c["rows"])
        assert "ReMDM(" in labels and "remasking='loop'" in labels and "EntropyBound(" in labels
        assert "LLaDA2(steps=5, temperature=1.0)" in labels and "LLaDA2(steps=5, editing_threshold=0.0" in labels
    case = cases[0]
    by_label = {row["label"]: row for row in case["rows"]}
    for name in ("Ancestral(steps=1, cache=True)", "LLaDA(steps=1, temperature=1.0)",
                 "Dream(steps=1, alg='maskgit_plus', temperature=1.0)", "LLaDA2(steps=1, temperature=1.0)"):
        assert abs(by_label[name]["kl_p_q"] - case["total_correlation"]) < 1e-10
        assert by_label[name]["expected_calls"] == 1.0
    for name in ("LeftToRight()", "LLaDA(steps=5, temperature=1.0, remasking='random')"):
        assert abs(by_label[name]["kl_p_q"]) < 1e-12 and by_label[name]["expected_calls"] == 5.0
    # the EB-Sampler reveals the toy set's determined positions (entropy 0) together, for free: exact at 3 calls,
    # so it beats every one-token-per-call setting
    eb = by_label["EntropyBound(gamma=0.5, temperature=1.0)"]
    assert abs(eb["kl_p_q"]) < 1e-12 and abs(eb["expected_calls"] - 3.0) < 1e-12
    assert "EntropyBound(gamma=0.5, temperature=1.0)" in case["frontier"] and "LeftToRight()" not in case["frontier"]


def test_the_frontier_theorems_on_the_toy_set_in_process():
    """The theorems the benchmark's frontier shows, on the paper's toy set with the oracle (the benchmark's rows come
    from the same frontier_rows; its whole run is the slow test above): one step loses exactly TC(p) in one call; one
    token per step in a value-independent order loses nothing; the EB-Sampler reveals the determined positions
    (entropy 0) together, exact at 3 calls."""
    import numpy as np
    import refimpl
    from refimpl import samplers as S
    from refimpl.experiments import toy
    from refimpl.experiments.frontier import frontier_rows

    table = np.asarray(refimpl.datasets.empirical(toy.toy_sequences(), vocab_size=5))
    one_step = [S.Ancestral(steps=1, cache=True), S.LLaDA(1, temperature=1.0), S.Dream(1, "maskgit_plus", 1.0),
                S.LLaDA2(1, temperature=1.0)]
    exact = [S.LeftToRight(), S.LLaDA(5, temperature=1.0, remasking="random")]
    eb = S.EntropyBound(0.5, temperature=1.0)
    rows = frontier_rows(table, refimpl.oracle_denoiser(table), one_step + exact + [eb], ties=False)
    tc = refimpl.total_correlation(table)
    assert tc > 1.0
    for row in rows[:4]:
        assert abs(row["kl_p_q"] - tc) < 1e-10 and row["expected_calls"] == 1.0, row["label"]
    for row in rows[4:6]:
        assert abs(row["kl_p_q"]) < 1e-12 and row["expected_calls"] == 5.0, row["label"]
    assert abs(rows[6]["kl_p_q"]) < 1e-12 and abs(rows[6]["expected_calls"] - 3.0) < 1e-12
