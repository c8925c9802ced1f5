"""The MLP without a mask (issue #38, build 3): its two losses' hand-written gradients against finite differences,
the NELBO loss against the exact integrand enumerated over every (x_0, z), and training that brings each model
towards the exact minimiser of its loss — the time-agnostic oracle for cross-entropy, the leave-one-out posterior
for the NELBO, whose exact value stays above H(p)."""
import numpy as np
import pytest
import refimpl
from refimpl.diffusion import uniform
from refimpl.diffusion.uniform_elbo import continuous_nelbo, loo_oracle, nelbo_integrand
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle
from refimpl.models import uniform_mlp as U

from tests.helpers import random_table

TABLE = random_table(np.random.default_rng(1), 3, 2, concentration=0.5)


def model_and_batch(timed, seed=0):
    rng = np.random.default_rng(seed)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in U.init_params(3, 2, (6,), timed, rng).items()}
    model = U.UniformMLP(3, 2, params, "gelu", timed)
    return model, rng.integers(0, 3, (5, 2)), rng.integers(0, 3, (5, 2)), rng.uniform(0.1, 0.9, 5), rng.uniform(0.5, 2, 5)


@pytest.mark.parametrize("timed", [False, True])
def test_each_losss_gradient_is_the_finite_difference(timed):
    model, x0, z, alpha, weight = model_and_batch(timed)

    def loss(params):
        logp, cache = U.forward(params, model, z, alpha if timed else None)
        out = U.nelbo_terms(logp, x0, z, alpha, -np.ones(5), weight) if timed else U.cross_entropy(logp, x0)
        return out, cache

    (value, dlogp), cache = loss(model.params)
    grads = U.backward(dlogp, cache)
    for name, array in model.params.items():
        for index in np.ndindex(array.shape):
            up = {k: v.copy() for k, v in model.params.items()}
            down = {k: v.copy() for k, v in model.params.items()}
            up[name][index] += 1e-6
            down[name][index] -= 1e-6
            numeric = (loss(up)[0][0] - loss(down)[0][0]) / 2e-6
            assert grads[name][index] == pytest.approx(numeric, abs=1e-7)


def test_the_nelbo_loss_averaged_over_every_x0_and_z_is_the_exact_integrand():
    """Weighting each (x_0, z) pair by p(x_0) q(z | x_0), the batch loss at one alpha is
    refimpl.diffusion.uniform_elbo.nelbo_integrand for the same model."""
    model, *_ = model_and_batch(True, seed=3)
    alpha = 0.37
    grid = np.indices((3, 3)).reshape(2, -1).T
    x0, z = np.repeat(grid, len(grid), axis=0), np.tile(grid, (len(grid), 1))
    weight = TABLE.ravel()[np.ravel_multi_index(tuple(x0.T), (3, 3))] * uniform.sequence_probability(x0, z, alpha, 3)
    logp, _ = U.forward(model.params, model, z, np.full(len(z), alpha))
    loss, _ = U.nelbo_terms(logp, x0, z, np.full(len(z), alpha), -np.ones(len(z)), weight * len(z))
    assert loss == pytest.approx(nelbo_integrand(TABLE, model.at(alpha), alpha, -1.0), abs=1e-12)


def test_training_moves_each_model_towards_the_minimiser_of_its_loss():
    cross = {steps: U.train_uniform(TABLE, U.UniformTrainConfig(steps=steps, lr=3e-3 if steps > 1 else 1e-12,
                                                                 hidden=(32, 32)))[0] for steps in (1, 400)}
    far, near = (U.distance_to_oracle(cross[s], time_agnostic_oracle(TABLE))[1] for s in (1, 400))
    assert near < far / 4
    told = {steps: U.train_uniform(TABLE, U.UniformTrainConfig(loss="nelbo", steps=steps, hidden=(32, 32),
                                                                lr=3e-3 if steps > 1 else 1e-12))[0]
            for steps in (1, 400)}
    entropy = refimpl.entropy(TABLE)
    gaps = [continuous_nelbo(TABLE, told[s].at) - entropy for s in (1, 400)]
    assert 0 < gaps[1] < gaps[0] / 4  # above H(p) always (proofs/uniform_nelbo.md), and much closer
    assert (U.distance_to_oracle(told[400], lambda a: loo_oracle(TABLE, a), [0.2, 0.8])[1]
            < U.distance_to_oracle(told[1], lambda a: loo_oracle(TABLE, a), [0.2, 0.8])[1])


def test_a_model_is_asked_as_it_was_trained():
    model, *_ = model_and_batch(True)
    with pytest.raises(refimpl.RefimplError, match="told the time"):
        model([[0, 1]])
    untimed, *_ = model_and_batch(False)
    with pytest.raises(refimpl.RefimplError, match="not told the time"):
        untimed.at(0.5)
    with pytest.raises(refimpl.RefimplError):
        U.UniformTrainConfig(loss="mse")


def test_refimpl_train_with_uniform_noise_saves_a_model_that_refimpl_law_reads(tmp_path, capsys):
    import io
    import json

    from refimpl.cli.main import main
    from refimpl.samplers.uniform_ancestral import UniformAncestral

    path = tmp_path / "uniform.npz"
    out = io.StringIO()
    assert main(["train", "--data", "coupled", "--noise", "uniform", "--uniform-loss", "nelbo", "--steps", "50",
                 "--hidden", "16", "--out", str(path), "--json", "--quiet"], out=out) == 0
    found = json.loads(out.getvalue())["reports"][0]["findings"]
    model = U.load(path)
    coupled = refimpl.datasets.coupled_pairs().table
    assert found["exact_nelbo"] == pytest.approx(continuous_nelbo(coupled, model.at), abs=1e-12)
    assert found["nelbo_gap"] > 0
    out = io.StringIO()
    assert main(["law", "--data", "coupled", "--sampler", "uniform_ancestral", "--steps", "3", "--denoiser",
                 str(path), "--json", "--quiet"], out=out) == 0
    sampler = UniformAncestral(3)
    law = sampler.exact_law([model.at(a) for a in sampler.alphas()], 4, 2)
    assert json.loads(out.getvalue())["reports"][0]["findings"]["kl_p_q"] == pytest.approx(refimpl.kl(coupled, law),
                                                                                          abs=1e-12)
    assert main(["law", "--data", "coupled", "--sampler", "renoise", "--denoiser", str(path), "--quiet"],
                out=io.StringIO()) == 2  # Renoise asks one model: a model told the time is refused
    assert "cannot be told the time" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(refimpl.FileFormatError):
        U.load(tmp_path / "junk.npz")
