"""Sweeps (issue #24): a spec's tasks; the same results byte for byte in this process, on a process pool and on
a local Dask cluster; a killed sweep finishing where it stopped; a failing task reported while the others
finish; bad specs, results directories and scheduler addresses refused."""
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import refimpl
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.experiments.frontier import frontier_rows
from refimpl.experiments.sweep import sweep
from refimpl.experiments.sweep_spec import expand, parse_spec
from refimpl.laws import datasets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SPEC = """\
[sweep]
task = "frontier"

[[laws]]
data = "dirichlet"
vocab_size = 3
length = 4
seed = [0, 1]

[[samplers]]
family = "llada"
steps = [1, 2, 4]
temperature = 1.0

[[samplers]]
family = "threshold"
threshold = [0.5, 0.9]
temperature = 1.0
"""


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_the_spec_is_the_product_of_its_axes_and_a_task_is_its_inputs():
    tasks = expand(parse_spec(SPEC, "toml"), SPEC)
    assert len(tasks) == 2 * (3 + 2)
    assert [t.law["seed"] for t in tasks[:5]] == [0] * 5 and tasks[0].law["concentration"] == 0.5
    reordered = {"laws": [{"seed": [0, 1], "length": 4, "vocab_size": 3, "concentration": 0.5}],
                 "samplers": [{"temperature": 1.0, "steps": [1, 2, 4], "family": "llada"},
                              {"family": "threshold", "threshold": [0.5, 0.9], "temperature": 1.0, "tie": "lowest"}]}
    assert sorted(t.key for t in expand(reordered)) == sorted(t.key for t in tasks)  # defaults named or not: one task


def test_serial_pool_and_results_agree_with_the_frontier_byte_for_byte(tmp_path):
    """In this process and on two processes: the same results.json bytes; each row is frontier_rows' own."""
    spec = write(tmp_path, SPEC)
    inline = sweep(spec, str(tmp_path / "inline"), workers=1)
    shown = io.StringIO()
    pooled = sweep(spec, str(tmp_path / "pool"), workers=2, progress=shown)
    assert inline["done"] == pooled["done"] == 10 and not inline["failed"]
    last = shown.getvalue().rstrip("\n").split("\r")[-1]  # the progress line: done / total / failed / time left
    assert last.startswith("sweep: 10/10 run (0 already done), 0 failed, ") and last.endswith("about 0 s left")
    data = open(inline["results"], "rb").read()
    assert data == open(pooled["results"], "rb").read()
    rows = json.loads(data)["tasks"]
    law = datasets.named("dirichlet", 3, 4, 1, 0.5)
    direct = frontier_rows(law.table, refimpl.oracle_denoiser(law), [S.Threshold(0.9, temperature=1.0)], ties=False)[0]
    found = next(r for r in rows if r["inputs"]["law"]["seed"] == 1 and r["inputs"]["sampler"].get("threshold") == 0.9)
    assert found["result"]["kl_p_q"] == direct["kl_p_q"] and found["result"]["expected_calls"] == direct["expected_calls"]
    again = sweep(spec, str(tmp_path / "inline"), workers=1)  # nothing left: nothing computed twice
    assert again["done"] == 0 and again["skipped"] == 10 and open(again["results"], "rb").read() == data


def test_a_local_dask_cluster_gives_the_same_bytes(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = write(tmp_path, SPEC)
    inline = sweep(spec, str(tmp_path / "inline"), workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = sweep(spec, str(tmp_path / "dask"), scheduler=cluster.scheduler_address)
    assert on_dask["done"] == 10 and open(on_dask["results"], "rb").read() == open(inline["results"], "rb").read()


def test_a_killed_sweep_finishes_where_it_stopped(tmp_path):
    """``refimpl sweep`` in a subprocess (limits of six laws, about 0.5 s each), killed (SIGKILL) once two results
    are written, then run again: every task present once, results.json byte for byte an uninterrupted run's,
    and the second run computes only what was missing."""
    text = '[sweep]\ntask = "limits"\n\n[[laws]]\nvocab_size = 3\nlength = 8\nseed = [0, 1, 2, 3, 4, 5]\n'
    spec = write(tmp_path, text)
    results = tmp_path / "killed"
    command = [sys.executable, "-m", "refimpl", "sweep", spec, "--results", str(results), "--workers", "1", "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (results / "tasks").exists() and len(list((results / "tasks").glob("*.json"))) >= 2:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(list((results / "tasks").glob("*.json")))
    assert 0 < written < 6, written  # killed mid-way
    assert not (results / "results.json").exists()
    resumed = sweep(spec, str(results), workers=1)
    assert resumed["skipped"] == written and resumed["done"] == 6 - written and not resumed["failed"]
    assert sorted(os.listdir(results / "tasks")) == sorted(t.key + ".json" for t in expand(parse_spec(text, "toml"), text))
    whole = sweep(spec, str(tmp_path / "whole"), workers=2)  # uninterrupted, on a pool
    assert open(resumed["results"], "rb").read() == open(whole["results"], "rb").read()


def test_a_failing_task_is_reported_and_the_others_finish(tmp_path):
    """LLaDA2's blocks of 3 do not divide the length 4 (refused when its plan is made): that task fails with its
    inputs and the error, the others are written, results.json waits for the failure to be fixed."""
    text = SPEC + '\n[[samplers]]\nfamily = "llada2"\nsteps = 2\nblock_length = 3\n'
    summary = sweep(write(tmp_path, text), str(tmp_path / "r"), workers=2)
    assert summary["done"] == 10 and len(summary["failed"]) == 2 and summary["results"] is None
    failure = summary["failed"][0]
    assert failure["inputs"]["sampler"] == {"family": "llada2", "steps": 2, "block_length": 3}
    assert "does not divide the length 4" in failure["error"]
    assert len(os.listdir(tmp_path / "r" / "failed")) == 2 and len(os.listdir(tmp_path / "r" / "tasks")) == 10
    out = io.StringIO()
    from refimpl.cli.main import main

    assert main(["sweep", write(tmp_path, text), "--results", str(tmp_path / "r"), "--quiet"], out=out) == 1
    assert "0 tasks run, 10 already done, 2 failed" in out.getvalue()


@pytest.mark.parametrize("text, needle", [
    (SPEC.replace('family = "threshold"', 'family = "Thresold"'),
     "line 16: sampler family must be one of .*, got 'Thresold'"),
    (SPEC.replace("threshold = [0.5, 0.9]", "treshold = 0.5"), "line 17: threshold has no parameter 'treshold'"),
    (SPEC.replace("steps = [1, 2, 4]", "steps = [1, 0]"), "line 12: LLaDA steps must be"),
    (SPEC.replace("seed = [0, 1]", "sed = 1"), "line 8: laws has no parameter 'sed'"),
    (SPEC.replace('data = "dirichlet"', 'data = "dirichlett"'), "line 5: data must be one of"),
    (SPEC.replace('task = "frontier"', 'task = "front"'), "line 2: task must be one of"),
])
def test_a_bad_spec_is_refused_naming_the_line(tmp_path, text, needle):
    with pytest.raises(InvalidParameterError, match=needle):
        sweep(write(tmp_path, text), str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()  # refused before anything is written


def test_a_bad_json_spec_names_the_line(tmp_path):
    spec = {"laws": [{"vocab_size": 2, "length": 3}], "samplers": [{"family": "llada", "steps": 2},
                                                                    {"family": "factor", "factr": 1.0}]}
    text = json.dumps(spec, indent=2)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "factr" in row)
    with pytest.raises(InvalidParameterError, match=f"line {line}: factor has no parameter 'factr'"):
        sweep(write(tmp_path, text, "spec.json"), str(tmp_path / "r"))


def test_another_sweeps_results_and_an_unreachable_scheduler_are_refused(tmp_path):
    sweep(write(tmp_path, SPEC), str(tmp_path / "r"), workers=1)
    other = SPEC.replace("seed = [0, 1]", "seed = [5]")
    with pytest.raises(InvalidParameterError, match="holds the results of another sweep"):
        sweep(write(tmp_path, other, "other.toml"), str(tmp_path / "r"), workers=1)
    import refimpl.experiments.executors as module

    def unreachable(address):
        raise InvalidParameterError(f"no Dask scheduler answers at {address}")

    original, module.dask_executor = module.dask_executor, unreachable
    try:  # refused before the results directory is made
        with pytest.raises(InvalidParameterError, match="no Dask scheduler answers at tcp://127.0.0.1:9"):
            sweep(write(tmp_path, SPEC), str(tmp_path / "fresh"), scheduler="tcp://127.0.0.1:9")
    finally:
        module.dask_executor = original
    assert not (tmp_path / "fresh").exists()
    with pytest.raises(InvalidParameterError, match="workers must be"):
        sweep(write(tmp_path, SPEC), str(tmp_path / "fresh"), workers=0)
    pytest.importorskip("distributed")
    with pytest.raises(InvalidParameterError, match="no Dask scheduler answers at tcp://127.0.0.1:9"):
        from refimpl.experiments.executors import dask_executor

        dask_executor("tcp://127.0.0.1:9", timeout="1s")


def test_a_limits_sweep_is_the_parallelism_profile(tmp_path):
    text = '[sweep]\ntask = "limits"\n\n[[laws]]\ndata = "markov"\nvocab_size = 2\nlength = [3, 4]\n'
    summary = sweep(write(tmp_path, text), str(tmp_path / "r"), workers=1)
    rows = json.loads(open(summary["results"]).read())["tasks"]
    law = np.asarray(datasets.named("markov", 2, 4))
    expected = refimpl.limits.parallelism_profile(law)
    assert rows[1]["result"]["profile"][1]["adaptive_kl"] == pytest.approx(expected[1]["adaptive_kl"], abs=0)


def test_the_library_guides_spec_runs(tmp_path):
    """docs/library.md's example spec: 4 laws x 3 settings, run in this process, every task done."""
    readme = open(os.path.join(ROOT, "docs", "library.md"), encoding="utf-8").read()
    block = readme[readme.index("```toml\n[sweep]") + len("```toml\n"):]
    block = block[:block.index("```")]
    summary = sweep(write(tmp_path, block), str(tmp_path / "r"), workers=1)
    assert summary["total"] == summary["done"] == 12 and summary["results"]


def test_the_frontier_and_the_prescriptions_grid_run_side_by_side_on_a_pool():
    """frontier_rows and the prescriptions grid on a 2-process pool: the same rows and cells as in this process,
    in the same order; ``refimpl frontier --workers 2`` prints what ``--workers 1`` prints."""
    import concurrent.futures

    from refimpl.cli.main import main
    from refimpl.experiments import prescriptions
    from refimpl.experiments.frontier import default_samplers

    law = datasets.named("dirichlet", 3, 4, 0, 0.5)
    chosen = default_samplers(4, quick=True)
    inline = frontier_rows(law.table, refimpl.oracle_denoiser(law), chosen)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        pooled = frontier_rows(law.table, refimpl.oracle_denoiser(law), chosen, executor=pool)
        grid = prescriptions.prescriptions_experiment(executor=pool)
    assert pooled == inline
    assert grid.tables == prescriptions.prescriptions_experiment().tables
    one, two = io.StringIO(), io.StringIO()
    assert main(["frontier", "--length", "3", "--workers", "1"], out=one) == 0
    assert main(["frontier", "--length", "3", "--workers", "2"], out=two) == 0
    assert one.getvalue() == two.getvalue()
    with pytest.raises(InvalidParameterError, match="workers"):
        from refimpl.experiments.executors import local_executor

        local_executor(0)


def test_a_sweep_over_a_trained_checkpoint(tmp_path):
    """``denoiser = "model.npz"`` (refimpl train's checkpoint): each row is frontier_rows' own with the loaded model;
    retraining the file makes new tasks (the key holds its SHA-256); a model for another length is refused naming
    the line, and a limits sweep takes none."""
    from refimpl.models import checkpoint, mlp
    from refimpl.models.train import TrainConfig, train

    law = datasets.named("dirichlet", 2, 3, 0, 0.5)
    path = str(tmp_path / "model.npz")
    train(law, mlp.MLPConfig(2, 3, (16,), "gelu"), TrainConfig(steps=20, batch_size=32, seed=1),
          checkpoint_path=path, progress=None)
    text = (f'[sweep]\ndenoiser = "{path}"\n\n[[laws]]\nvocab_size = 2\nlength = 3\n\n'
            '[[samplers]]\nfamily = "llada"\nsteps = [1, 3]\ntemperature = 1.0\n')
    summary = sweep(write(tmp_path, text), str(tmp_path / "r"), workers=2)
    rows = json.loads(open(summary["results"]).read())["tasks"]
    model = checkpoint.load(path)[0]
    direct = frontier_rows(law.table, model, [S.LLaDA(3, temperature=1.0)], ties=False)[0]
    assert rows[1]["inputs"]["denoiser"] == path and rows[1]["result"]["kl_p_q"] == direct["kl_p_q"]
    oracle_keys = {t.key for t in expand(parse_spec(text.replace(f'denoiser = "{path}"', ""), "toml"))}
    first = {t.key for t in expand(parse_spec(text, "toml"))}
    train(law, mlp.MLPConfig(2, 3, (16,), "gelu"), TrainConfig(steps=20, batch_size=32, seed=2),
          checkpoint_path=path, progress=None)
    assert first.isdisjoint({t.key for t in expand(parse_spec(text, "toml"))}) and first.isdisjoint(oracle_keys)
    with pytest.raises(InvalidParameterError, match="line 2: .* is a model for V=2, L=3; the law"):
        expand(parse_spec(text.replace("length = 3", "length = 4"), "toml"), text.replace("length = 3", "length = 4"))
    limits = f'[sweep]\ntask = "limits"\ndenoiser = "{path}"\n\n[[laws]]\nvocab_size = 2\nlength = 3\n'
    with pytest.raises(InvalidParameterError, match="line 3: a limits sweep is the oracle's"):
        expand(parse_spec(limits, "toml"), limits)


def test_the_frontier_command_as_a_resumable_sweep(tmp_path, capsys):
    """``refimpl frontier --results DIR`` prints what ``refimpl frontier`` prints, from a sweep into DIR (run
    again: nothing recomputed, the same table); a law from a data file goes in as DIR/law.npy, a changed .npy
    table makes new tasks; --prompt is refused with --results."""
    from refimpl.cli.main import main
    from refimpl.experiments.sweep import frontier_sweep_rows, sampler_entry

    direct, swept, again = io.StringIO(), io.StringIO(), io.StringIO()
    assert main(["frontier", "--length", "3"], out=direct) == 0
    assert main(["frontier", "--length", "3", "--results", str(tmp_path / "f"), "--workers", "2"], out=swept) == 0
    assert main(["frontier", "--length", "3", "--results", str(tmp_path / "f")], out=again) == 0
    assert swept.getvalue() == direct.getvalue() == again.getvalue()
    data = tmp_path / "data.txt"
    data.write_text("0 1 1\n1 1 0\n0 1 1\n")
    plain, saved = io.StringIO(), io.StringIO()
    assert main(["frontier", "--data-file", str(data)], out=plain) == 0
    assert main(["frontier", "--data-file", str(data), "--results", str(tmp_path / "d")], out=saved) == 0
    assert saved.getvalue() == plain.getvalue() and (tmp_path / "d" / "law.npy").exists()
    assert main(["frontier", "--prompt", "0 M M", "--length", "3", "--results", str(tmp_path / "p")],
                out=io.StringIO()) != 0
    assert "whose tasks take no prompt" in capsys.readouterr().err
    table = tmp_path / "law.npy"
    np.save(table, np.asarray(datasets.named("dirichlet", 2, 3, 0, 0.5)), allow_pickle=False)
    law = {"data": str(table), "vocab_size": 2, "length": 3}
    first = frontier_sweep_rows(law, [S.LLaDA(3, temperature=1.0)], str(tmp_path / "n1"), workers=1)
    np.save(table, np.asarray(datasets.named("dirichlet", 2, 3, 1, 0.5)), allow_pickle=False)
    with pytest.raises(InvalidParameterError, match="holds the results of another sweep"):  # a new table: new tasks
        frontier_sweep_rows(law, [S.LLaDA(3, temperature=1.0)], str(tmp_path / "n1"), workers=1)
    second = frontier_sweep_rows(law, [S.LLaDA(3, temperature=1.0)], str(tmp_path / "n2"), workers=1)
    assert first[0]["kl_p_q"] != second[0]["kl_p_q"]
    assert sampler_entry(S.Ancestral(steps=4, cache=True)) == {"family": "ancestral", "steps": 4, "cache": True}
    with pytest.raises(InvalidParameterError, match="cannot be written in a sweep spec"):
        sampler_entry(S.RandomK([1, 2]))


def test_a_single_threaded_pool_gives_its_workers_one_blas_thread_and_restores_the_environment(monkeypatch):
    """refimpl.experiments.executors.single_threaded_pool: the workers start with one BLAS thread each (what made
    refimpl paper's trainings 1.5x faster on two processes instead of 3x slower), and the parent's environment is
    what it was before the block."""
    from refimpl.experiments.executors import BLAS_THREADS, single_threaded_pool

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    with single_threaded_pool(2) as pool:
        seen = [pool.submit(os.getenv, name).result() for name in BLAS_THREADS]
    assert seen == ["1", "1", "1"]
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7" and "MKL_NUM_THREADS" not in os.environ
