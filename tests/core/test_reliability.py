"""Issue #10: determinism across runs and processes, numerics at the edges, the memory guard at every
enumerating entry point, and files that survive interrupted writes and never unpickle."""
import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import refimpl
from refimpl import denoisers
from refimpl import samplers as S
from refimpl.core import files
from refimpl.diffusion import elbo, forward
from refimpl.interop import vectors
from refimpl.laws import datasets, lattice, space
from refimpl.models import checkpoint, mlp
from refimpl.models.train import TrainConfig, train

from tests.helpers import random_table

SAMPLERS = [S.Ancestral(steps=3), S.FirstHitting(), S.RandomK(2), S.LLaDA(3, temperature=0.7),
            S.LLaDA(3, temperature=1.0, remasking="random"), S.Dream(3, "entropy", 0.8), S.Dream(3, "origin", 1.0),
            S.Threshold(0.5, temperature=1.0), S.Factor(1.0, temperature=1.0), S.LeftToRight(),
            S.SemiAR(1, S.RandomK(1)), S.FixedOrder([[0, 2], [1]])]

DIGEST_SCRIPT = "from tests.core.test_reliability import digest; print(digest())"


def digest():
    law = datasets.dirichlet(3, 3, np.random.default_rng(0))
    oracle = refimpl.oracle_denoiser(law)
    h = hashlib.sha256()
    for sampler in SAMPLERS:
        h.update(refimpl.sample(oracle, sampler, 300, np.random.default_rng(5), 3, 3).tobytes())
        h.update(refimpl.exact_law(oracle, sampler, 3, 3).tobytes())
    return h.hexdigest()


def test_every_sampler_is_deterministic_across_runs_and_process_restarts():
    first, second = digest(), digest()
    assert first == second
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    other = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], capture_output=True, text=True, cwd=root, check=True)
    assert other.stdout.strip() == first


def test_exact_laws_do_not_depend_on_how_many_threads_run_them(monkeypatch):
    from refimpl.core import numerics

    table = random_table(np.random.default_rng(1), 3, 4)
    oracle = refimpl.oracle_denoiser(table)
    parallel = refimpl.exact_law(oracle, S.Ancestral(steps=3), 4, 3)
    monkeypatch.setattr(numerics, "worker_count", lambda: 1)
    assert refimpl.exact_law(oracle, S.Ancestral(steps=3), 4, 3).tobytes() == parallel.tobytes()


# --- numerics at the edges -------------------------------------------------------------------------

def assert_no_nan(*arrays):
    for array in arrays:
        assert not np.any(np.isnan(np.asarray(array, dtype=float))), "silent NaN"


def test_probabilities_down_to_1e_300_stay_exact():
    table = random_table(np.random.default_rng(2), 2, 3)
    table.ravel()[[1, 4]] = 1e-300
    table /= table.sum()
    oracle = refimpl.oracle_denoiser(table)
    assert refimpl.nelbo(oracle, table) == pytest.approx(refimpl.entropy(table), abs=1e-12)
    for sampler in SAMPLERS[:4]:
        q = refimpl.exact_law(oracle, sampler, 3, 2)
        assert_no_nan(q)
        assert q.sum() == pytest.approx(1.0, abs=1e-12)
    assert refimpl.tv(table, refimpl.exact_law(oracle, S.LeftToRight(), 3, 2)) < 1e-12
    z = space.partial_sequences(2, 3)
    mu = oracle(z)
    assert_no_nan(mu)
    # the conditional next to the 1e-300 sequence: exact ratio, not 0/0
    direct = refimpl.conditional_marginals(table, [0, 0, 2])
    np.testing.assert_allclose(mu[space.encode(np.array([[0, 0, 2]]), 2, partial=True)[0]], direct, rtol=1e-12)


def test_laws_with_zero_entries_and_zero_probability_partials_give_no_nan():
    law = datasets.coupled_pairs()  # most partial sequences have probability zero
    oracle = refimpl.oracle_denoiser(law)
    assert_no_nan(oracle(space.partial_sequences(4, 2)), forward.forward_law(law, 0.5))
    assert refimpl.nelbo(oracle, law) == pytest.approx(np.log(2), abs=1e-15)
    for sampler in SAMPLERS[:-1]:
        if isinstance(sampler, S.FixedOrder):
            continue
        q = refimpl.exact_law(oracle, sampler, 2, 4)
        assert_no_nan(q)
        assert q.sum() == pytest.approx(1.0)
    assert refimpl.kl(law, refimpl.exact_law(oracle, S.RandomK(2), 2, 4)) == pytest.approx(np.log(2))


def test_logits_of_magnitude_1e3_are_stable():
    from refimpl.interop import adapters

    def model(z):
        logits = np.zeros(z.shape + (3,))
        logits[..., 0] = 1e3
        logits[..., 1] = -1e3
        return logits

    probs = adapters.from_model(model, 3)(np.array([[3, 3], [0, 3]]))
    assert_no_nan(probs)
    np.testing.assert_allclose(probs[0, 0], [1.0, 0.0, np.exp(-1e3)], atol=1e-300)
    config = mlp.MLPConfig(3, 2, (4,), "gelu")
    params = {k: 1e3 * np.ones_like(v) for k, v in mlp.init_params(config, np.random.default_rng(0)).items()}
    params["W1"][:, ::2] *= -1
    loss, grads = mlp.loss_and_grads(params, config, np.array([[3, 3]]), np.array([[1, 0]]), np.ones(1))
    assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for g in grads.values())


def test_smallest_spaces_v2_and_l1_work_everywhere(tmp_path):
    table = np.array([0.3, 0.7])
    oracle = refimpl.oracle_denoiser(table)
    np.testing.assert_allclose(oracle(np.array([[2]])), [[[0.3, 0.7]]])
    assert refimpl.nelbo(oracle, table) == pytest.approx(refimpl.entropy(table))
    assert refimpl.nelbo(oracle, table, steps=3) == pytest.approx(refimpl.entropy(table))
    for sampler in SAMPLERS[:-1] + [S.LLaDA(1, block_length=1, temperature=1.0)]:
        if isinstance(sampler, S.SemiAR):
            continue
        q = refimpl.exact_law(oracle, sampler, 1, 2)
        assert_no_nan(q)
        if getattr(sampler, "temperature", 1.0) == 1.0:  # untempered: one position, so exactly p
            np.testing.assert_allclose(q, table, atol=1e-15)
    assert refimpl.total_correlation(table) == 0.0 and refimpl.entropy(datasets.parity(2, 1)) == 0.0
    model, history = train(table, mlp.MLPConfig(2, 1, (3,), "tanh"), TrainConfig(steps=5, batch_size=4))
    assert_no_nan(history, model(np.array([[2]])))


def test_outputs_of_exact_laws_and_nelbos_never_hold_nan_on_random_laws():
    rng = np.random.default_rng(4)
    for _ in range(5):
        table = random_table(rng, 3, 3, concentration=0.1, zero_fraction=0.6)
        oracle = refimpl.oracle_denoiser(table)
        for sampler in SAMPLERS:
            assert_no_nan(refimpl.exact_law(oracle, sampler, 3, 3))
        assert_no_nan([refimpl.nelbo(oracle, table), refimpl.nelbo(oracle, table, steps=4)])


# --- the memory guard at every entry point ----------------------------------------------------------

def needed_bytes(call):
    """The estimate an entry point states when it refuses (parsed from its message)."""
    with refimpl.memory_limit(1):
        with pytest.raises(refimpl.MemoryLimitError) as info:
            call()
    return int(re.search(r"\((\d+) bytes\)", str(info.value)).group(1))


LAW_SMALL = random_table(np.random.default_rng(6), 3, 4)
ENTRY_POINTS = {
    "space.enumerate_sequences": lambda: space.enumerate_sequences(3, 4, partial=True),
    "datasets.dirichlet": lambda: datasets.dirichlet(3, 4, np.random.default_rng(0)),
    "datasets.parity": lambda: datasets.parity(3, 4),
    "datasets.markov_chain": lambda: datasets.markov_chain([0.5, 0.5], [[0.5, 0.5], [0.5, 0.5]], 6),
    "datasets.empirical": lambda: datasets.empirical([[0, 1, 2, 1]], vocab_size=3),
    "lattice.marginal_lattice": lambda: lattice.marginal_lattice(LAW_SMALL),
    "oracle_denoiser": lambda: refimpl.oracle_denoiser(LAW_SMALL, precompute=True),
    "LatticeOracle": lambda: refimpl.oracle_denoiser(LAW_SMALL, precompute=False),
    "denoisers.tabulate": lambda: denoisers.tabulate(lambda z: ORACLE_SMALL(z), 3, 4),
    "forward.forward_law": lambda: forward.forward_law(LAW_SMALL, 0.5),
    "exact_law": lambda: refimpl.exact_law(ORACLE_SMALL, S.Ancestral(steps=2), 4, 3),
    "sample": lambda: refimpl.sample(ORACLE_SMALL, S.RandomK(1), 1000, np.random.default_rng(0), 4, 3),
    "nelbo": lambda: refimpl.nelbo(ORACLE_SMALL, LAW_SMALL),
    "nelbo T-step grid": lambda: refimpl.nelbo(ORACLE_SMALL, LAW_SMALL, steps=10**6),
    "nelbo_monte_carlo": lambda: elbo.nelbo_monte_carlo(ORACLE_SMALL, LAW_SMALL, 1000, np.random.default_rng(0)),
    "train": lambda: train(LAW_SMALL, mlp.MLPConfig(3, 4, (8,), "tanh"), TrainConfig(steps=1, batch_size=64)),
}
ORACLE_SMALL = refimpl.oracle_denoiser(LAW_SMALL)


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_memory_guard_refuses_just_over_the_limit_and_allows_at_it(name):
    call = ENTRY_POINTS[name]
    needed = needed_bytes(call)
    assert needed > 1
    with refimpl.memory_limit(needed - 1):
        with pytest.raises(refimpl.MemoryLimitError, match=f"{needed} bytes"):
            call()
    with refimpl.memory_limit(needed + 10**7):  # other, smaller allocations of the same call fit too
        call()


def test_memory_guard_refuses_the_alg_temp_enumeration_before_forming_it():
    """Dream's alg_temp law enumerates V^n draws: at V = 8, L = 6 that outgrows the engine's tables."""
    oracle = refimpl.oracle_denoiser(random_table(np.random.default_rng(1), 8, 6))
    dream = S.Dream(2, "maskgit_plus", 1.0, alg_temp=0.5)
    with refimpl.memory_limit(16 * 2**20):  # the tables (3 x 9^6 doubles, 12.8 MB) fit, 8^6 draws x 6 do not
        with pytest.raises(refimpl.MemoryLimitError, match="alg_temp"):
            refimpl.exact_law(oracle, dream, 6, 8)
        refimpl.exact_law(oracle, S.Dream(2, "maskgit_plus", 1.0), 6, 8)  # without alg_temp it fits


# --- files ------------------------------------------------------------------------------------------

def test_an_interrupted_write_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "model.npz"
    model, _ = train(LAW_SMALL, mlp.MLPConfig(3, 4, (4,), "tanh"), TrainConfig(steps=3, batch_size=4),
                     checkpoint_path=target)
    before = target.read_bytes()

    real_fsync = os.fsync

    def crash(fd):  # the data is written but the process dies before the rename
        real_fsync(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(target, model)
    with pytest.raises(KeyboardInterrupt):
        vectors.write(tmp_path / "golden.json")
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_json(tmp_path / "results.json", {"a": 1})
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no partial files, no temporaries
    checkpoint.load(target)


def test_a_process_killed_while_writing_leaves_the_previous_file_intact(tmp_path):
    """The child is stopped between writing its data and the rename: its fsync signals, then waits to be
    killed.  The test checks that it got there (a marker, the temporary file holding the new bytes, death
    by SIGKILL rather than an error) before it checks that the old file is intact."""
    import signal
    import time

    target, marker = tmp_path / "big.json", tmp_path / "writing"
    files.atomic_write_json(target, {"version": "old"})
    script = ("import os, time\n"
              "import refimpl.core.files as f\n"
              "real = os.fsync\n"
              "def fsync(fd):\n"
              "    real(fd)\n"
              f"    open({str(marker)!r}, 'w').close()\n"
              "    time.sleep(120)\n"
              "os.fsync = fsync\n"
              f"f.atomic_write_json({str(target)!r}, {{'version': 'new', 'data': list(range(100_000))}})\n")
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while time.time() < deadline and not marker.exists() and process.poll() is None:
        time.sleep(0.01)
    assert marker.exists(), "the child never reached the middle of its write"
    temporaries = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(temporaries) == 1 and b'"new"' in temporaries[0].read_bytes()
    process.kill()
    assert process.wait() == -signal.SIGKILL
    assert json.loads(target.read_text()) == {"version": "old"}


def test_loading_never_unpickles(tmp_path):
    class Boom:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    arrays = {"schema": np.array(checkpoint.SCHEMA), "config": np.array([Boom()], dtype=object)}
    np.savez(tmp_path / "evil.npz", **arrays)  # numpy pickles the object array
    with pytest.raises(refimpl.FileFormatError):
        checkpoint.load(tmp_path / "evil.npz")
    assert not (tmp_path / "pwned").exists()
