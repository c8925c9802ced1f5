"""NELBO training: it converges to H(p), is deterministic, and checkpoints/resumes bit-identically."""
import subprocess
import sys
import time

import numpy as np
import pytest
import refimpl
from refimpl.diffusion import elbo
from refimpl.diffusion import schedules as sch
from refimpl.laws import datasets
from refimpl.models import checkpoint, mlp
from refimpl.models.train import TrainConfig, mask_batch, train

from tests.helpers import random_table

SMALL = mlp.MLPConfig(3, 4, (16,), "tanh")


def law():
    return datasets.dirichlet(3, 4, np.random.default_rng(0))


def test_training_reaches_the_entropy_within_0_02_nats():
    p = law()
    model, history = train(p, mlp.MLPConfig(3, 4, (128, 128), "gelu"),
                           TrainConfig(steps=2000, batch_size=256, lr=3e-3, masking="random", seed=0),
                           schedule=sch.Polynomial(2.0))
    gap = elbo.nelbo(model, p) - refimpl.entropy(p)
    assert -1e-12 <= gap <= 0.02
    assert np.mean(history[-100:]) < np.mean(history[:100])


def test_same_seed_same_weights_bit_for_bit():
    a, ha = train(law(), SMALL, TrainConfig(steps=60, batch_size=32, seed=5, masking="blockwise", block_size=2))
    b, hb = train(law(), SMALL, TrainConfig(steps=60, batch_size=32, seed=5, masking="blockwise", block_size=2))
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])
    assert np.array_equal(ha, hb)
    c, _ = train(law(), SMALL, TrainConfig(steps=60, batch_size=32, seed=6, masking="blockwise", block_size=2))
    assert not np.array_equal(a.params["W0"], c.params["W0"])


def test_training_from_sequences_samples_rows_uniformly():
    rows = np.array([[0, 1, 2, 0], [2, 2, 1, 0], [1, 0, 0, 2]])
    model, _ = train(rows, SMALL, TrainConfig(steps=300, batch_size=64, lr=1e-2, masking="any_order"))
    empirical = datasets.empirical(rows, vocab_size=3)
    assert elbo.nelbo(model, empirical) - refimpl.entropy(empirical) < 0.3


def test_blockwise_masking_layout_and_weight():
    rng = np.random.default_rng(0)
    config = TrainConfig(masking="blockwise", block_size=2, antithetic=False)
    x0 = rng.integers(0, 3, size=(500, 6))
    z, loss_mask, weights = mask_batch(x0, config, sch.Linear(), np.random.default_rng(1), 3)
    for b in range(len(z)):
        masked_blocks = [(z[b, 2 * c:2 * c + 2] == 3).any() for c in range(3)]
        current = loss_mask[b].nonzero()[0] // 2
        if current.size:
            c = current[0]
            assert np.all(current == c)
            assert np.all(z[b, :2 * c] == x0[b, :2 * c])  # earlier blocks clean
            assert np.all(z[b, 2 * c + 2:] == 3)  # later blocks fully masked
            assert np.array_equal(loss_mask[b, 2 * c:2 * c + 2], z[b, 2 * c:2 * c + 2] == 3)
        assert not np.any(loss_mask[b] & (z[b] != 3))
        del masked_blocks
    assert np.all(weights > 0)


@pytest.mark.parametrize("masking, block_size", [("random", 1), ("any_order", 1), ("blockwise", 2), ("blockwise", 3)])
def test_each_masking_is_an_unbiased_estimate_of_the_entropy_at_the_oracle(masking, block_size):
    """The training objective's mean at the optimal denoiser is H(p) — for blockwise masking by the chain
    rule over blocks.  99.9% normal interval (false-alarm rate 1e-3), seeded."""
    table = random_table(np.random.default_rng(2), 2, 6, concentration=0.5)
    oracle = refimpl.oracle_denoiser(table)
    config = TrainConfig(masking=masking, block_size=block_size, antithetic=False)
    rng = np.random.default_rng(3)
    losses = []
    for _ in range(20):
        x0 = refimpl.space.decode(rng.choice(64, size=2000, p=table.ravel()), 2, 6)
        z, loss_mask, weights = mask_batch(x0, config, sch.Polynomial(2.0), rng, 2)
        picked = np.take_along_axis(oracle(z), x0[..., None], axis=-1)[..., 0]
        losses.append(weights * -(np.log(np.where(loss_mask, picked, 1.0))).sum(axis=1))
    losses = np.concatenate(losses)
    stderr = losses.std(ddof=1) / np.sqrt(len(losses))
    assert abs(losses.mean() - refimpl.entropy(table)) <= 3.2905 * stderr


def test_checkpoint_round_trip_is_exact(tmp_path):
    model, _ = train(law(), SMALL, TrainConfig(steps=20, batch_size=16), checkpoint_path=tmp_path / "m.npz")
    loaded, opt_state, state, history = checkpoint.load(tmp_path / "m.npz")
    assert loaded.config == model.config and state["step"] == 20 and len(history) == 20
    for name in model.params:
        assert np.array_equal(loaded.params[name], model.params[name])
    assert opt_state["step"] == 20


def test_bad_checkpoints_are_refused_clearly(tmp_path):
    path = tmp_path / "m.npz"
    train(law(), SMALL, TrainConfig(steps=5, batch_size=8), checkpoint_path=path)
    data = path.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(refimpl.FileFormatError, match="truncated or corrupted"):
        checkpoint.load(tmp_path / "truncated.npz")
    arrays = dict(np.load(path, allow_pickle=False))
    arrays["schema"] = np.array("refimpl-mlp/0")
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(refimpl.FileFormatError, match="refimpl-mlp/0"):
        checkpoint.load(tmp_path / "old.npz")
    np.savez(tmp_path / "foreign.npz", weights=np.ones(3))
    with pytest.raises(refimpl.FileFormatError, match="no schema"):
        checkpoint.load(tmp_path / "foreign.npz")
    del arrays["param/W1"]
    arrays["schema"] = np.array(checkpoint.SCHEMA)
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(refimpl.FileFormatError, match="inconsistent"):
        checkpoint.load(tmp_path / "partial.npz")
    with pytest.raises(refimpl.FileFormatError, match="no checkpoint"):
        checkpoint.load(tmp_path / "missing.npz")


class Interrupt(Exception):
    pass


def test_interrupted_and_resumed_run_ends_bit_identical(tmp_path):
    config = TrainConfig(steps=150, batch_size=32, seed=9, checkpoint_every=40)
    straight, straight_history = train(law(), SMALL, config)
    path = tmp_path / "run.npz"

    def stop_at_130(step, loss):
        if step == 130:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(law(), SMALL, config, checkpoint_path=path, on_step=stop_at_130)
    assert checkpoint.load(path)[2]["step"] == 120
    resumed, resumed_history = train(law(), SMALL, config, checkpoint_path=path, resume=True)
    for name in straight.params:
        assert np.array_equal(resumed.params[name], straight.params[name])
    assert np.array_equal(resumed_history, straight_history)


def test_a_killed_cli_run_resumes_bit_identical(tmp_path):
    """A real SIGKILL of `refimpl train` mid-run, then `--resume`, against a run that never stopped."""
    path = tmp_path / "killed.npz"
    args = [sys.executable, "-m", "refimpl", "train", "--data", "dirichlet", "--vocab-size", "3", "--length", "4",
            "--steps", "2500", "--batch-size", "32", "--hidden", "16", "--checkpoint-every", "10", "--seed", "4"]
    process = subprocess.Popen(args + ["--out", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not path.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    process.kill()
    process.wait()
    step = checkpoint.load(path)[2]["step"]
    assert 0 < step < 2500, "the run must be killed mid-way"
    subprocess.run(args + ["--out", str(path), "--resume"], check=True, stdout=subprocess.DEVNULL)
    straight = tmp_path / "straight.npz"
    subprocess.run(args + ["--out", str(straight)], check=True, stdout=subprocess.DEVNULL)
    a, b = checkpoint.load(path)[0], checkpoint.load(straight)[0]
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])


def test_resume_refuses_other_settings(tmp_path):
    path = tmp_path / "m.npz"
    train(law(), SMALL, TrainConfig(steps=10, batch_size=8), checkpoint_path=path)
    with pytest.raises(refimpl.InvalidParameterError, match="other settings"):
        train(law(), SMALL, TrainConfig(steps=10, batch_size=16), checkpoint_path=path, resume=True)
