"""diffusers' DiscreteDDIMScheduler on a model without a mask (issue #38, rule R9): the exact law against its loop
re-written in tests/originals.py and against the installed package itself (chi-square at 1e-3, seeded), the
exact-on-a-product-law closed form, and the factorisation barrier on a coupled law."""
import numpy as np
import pytest
import refimpl
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from refimpl.samplers.discrete_ddim import DiscreteDDIM
from scipy import stats

from tests import originals
from tests.helpers import random_table

V, L = 3, 3
TABLE = random_table(np.random.default_rng(8), V, L, concentration=0.5)
MODEL = time_agnostic_oracle(TABLE)
ALPHA = 1e-3


def chi_square_p(samples, law):
    counts = np.bincount(np.ravel_multi_index(tuple(samples.T), law.shape), minlength=law.size)
    expected = law.ravel() * len(samples)
    keep = expected > 0
    assert counts[~keep].sum() == 0, "a sample the exact law gives probability 0"
    return stats.chisquare(counts[keep], expected[keep]).pvalue


@pytest.mark.parametrize("steps, temperature", [(4, 1.0), (3, 0.0), (6, 0.7)])
def test_the_loop_follows_the_exact_law(steps, temperature):
    sampler = DiscreteDDIM(steps, temperature)
    law = sampler.exact_law(MODEL, V, L)
    samples = originals.discrete_ddim(MODEL, 6000, np.random.default_rng(1), L, V, steps=steps,
                                      temperature=temperature)
    assert chi_square_p(samples, law) > ALPHA
    assert chi_square_p(sampler.sample(MODEL, 6000, np.random.default_rng(2), V, L), law) > ALPHA  # refimpl's draw
    other = DiscreteDDIM(steps, 0.3 if temperature >= 1 else 2.0).exact_law(MODEL, V, L)  # another temperature
    assert refimpl.tv(law, other) > 0.1 and chi_square_p(samples, other) < ALPHA  # the check can fail


def test_the_installed_scheduler_follows_the_exact_law():
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from diffusers import DiscreteDDIMScheduler

    steps, temperature, n = 4, 1.0, 6000
    scheduler = DiscreteDDIMScheduler(num_inference_steps=steps)
    scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(0)
    canvas = torch.randint(0, V, (n, L), generator=generator)
    for k in scheduler.timesteps:
        with np.errstate(divide="ignore"):
            logits = torch.from_numpy(np.log(MODEL(canvas.numpy())))
        canvas = scheduler.step(logits, k, canvas, temperature=temperature, generator=generator).prev_sample
    assert chi_square_p(canvas.numpy(), DiscreteDDIM(steps, temperature).exact_law(MODEL, V, L)) > ALPHA


def test_a_model_told_the_time_decodes_a_product_law_exactly_at_temperature_1():
    """On a product law the posterior of x_0 given x_t factorises, so drawing x0 from the time-conditioned oracle and
    x_s from q(x_s | x_t, x0) is the exact reverse process: the output is p, at any number of steps."""
    product = refimpl.datasets.product([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]).table
    for steps in (1, 2, 5):
        told = [uniform_oracle(product, k / steps) for k in range(steps)]
        np.testing.assert_allclose(DiscreteDDIM(steps, 1.0).exact_law(told, V, L), product, atol=1e-13)


def test_on_a_coupled_law_a_step_that_draws_positions_together_loses_the_coupling():
    """The coupled pairs "AB" or "CD": one step (all positions drawn from the marginals at once) puts mass on AD and
    CB; more steps with a model told the time lose less."""
    p = refimpl.datasets.coupled_pairs().table
    one = DiscreteDDIM(1, 1.0).exact_law([uniform_oracle(p, 0.0)], 4, 2)
    assert one[0, 3] + one[2, 1] == pytest.approx(0.5, abs=1e-12)  # the product of the marginals
    many = DiscreteDDIM(8, 1.0).exact_law([uniform_oracle(p, k / 8) for k in range(8)], 4, 2)
    assert refimpl.kl(p, many) < refimpl.kl(p, one)


@pytest.mark.parametrize("settings", [dict(steps=0), dict(temperature=-1.0), dict(steps="many")])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        DiscreteDDIM(**settings)


def test_one_denoiser_per_step_or_a_clear_error():
    with pytest.raises(refimpl.RefimplError, match="one denoiser per step"):
        DiscreteDDIM(3).exact_law([MODEL, MODEL], V, L)
    with pytest.raises(refimpl.RefimplError, match="one denoiser per step"):
        DiscreteDDIM(3).sample([MODEL], 5, np.random.default_rng(0), V, L)


def calls_agree(calls, exact):
    if calls.std() == 0:
        return calls[0] == pytest.approx(exact, abs=1e-9)
    return abs(calls.mean() - exact) <= stats.norm.ppf(1 - ALPHA / 2) * calls.std(ddof=1) / np.sqrt(len(calls))


@pytest.mark.parametrize("sampler", [
    DiscreteDDIM(5, 1.0, corrector_steps=1),
    DiscreteDDIM(7, 0.0, corrector_steps=2, corrector_k=2, corrector_selection="lowest_current_prob",
                 corrector_selection_tau=0.5),
    DiscreteDDIM(5, 1.0, corrector_steps=1, corrector_selection="random"),
    DiscreteDDIM(4, 1.0, corrector_steps=1, corrector_selection="lowest_maxprob", confidence_threshold=0.6),
    DiscreteDDIM(4, 0.5, confidence_threshold=0.7, stability_threshold=0),
    DiscreteDDIM(6, 0.5, corrector_steps=1, confidence_threshold=0.8, stability_threshold=2),
], ids=["margin", "current-k2", "random", "maxprob-stop", "stop", "stop-s2"])
def test_the_pipelines_loop_with_sweeps_and_stop_follows_the_exact_law_and_calls(sampler):
    law, calls = sampler.exact_law_and_calls(MODEL, V, L)
    counted = np.zeros(6000, dtype=np.int64)
    settings = {f: getattr(sampler, f) for f in sampler.__dataclass_fields__}
    samples = originals.diffusers_discrete_ddim(MODEL, 6000, np.random.default_rng(5), L, V, calls=counted,
                                                **settings)
    assert chi_square_p(samples, law) > ALPHA and calls_agree(counted, calls)
    mine, my_calls = sampler.sample_with_calls(MODEL, 6000, np.random.default_rng(6), V, L)  # refimpl's draws
    assert chi_square_p(mine, law) > ALPHA and calls_agree(my_calls, calls)
    if sampler.confidence_threshold is None:
        assert calls == pytest.approx(sampler.expected_calls(), abs=1e-12) and sampler.expected_calls() == sampler.steps


def test_a_sweep_that_reads_the_current_token_does_not_keep_p_s_as_the_docstring_says():
    """step_correct's docstring: the sweep "preserves p_s".  From the forward law q(x_s) itself, with the exact model
    at alpha_s (the posterior marginal, which the sweep turns into the leave-one-out posterior), one sweep by
    ``random`` selection keeps q(x_s) exactly — a Gibbs step — while ``lowest_log_margin``, whose choice of position
    reads the token it redraws, moves it."""
    from refimpl.diffusion import uniform
    from refimpl.engine.uniform_chain import canvases, step_rows

    p = refimpl.datasets.coupled_pairs().table
    alpha_s, grid = 0.5, canvases(4, 2)
    q_s = uniform.forward_law(p, alpha_s).ravel()
    mu = uniform_oracle(p, alpha_s)(grid)
    moved = {}
    for selection in ("random", "lowest_log_margin"):
        sweep = DiscreteDDIM(4, corrector_steps=1, corrector_selection=selection).sweep(alpha_s)
        moved[selection] = sum(step_rows(f, q_s * w).sum(axis=0) for w, f in sweep(mu, grid))
    np.testing.assert_allclose(moved["random"], q_s, atol=1e-14)
    assert refimpl.tv(moved["lowest_log_margin"].reshape(4, 4), q_s.reshape(4, 4)) > 1e-3


def test_the_call_budget_splits_as_the_pipelines():
    """num_inference_steps = 8 with 2 sweeps: (8 - 1) // 3 = 2 corrected steps, 8 - 4 = 4 predictor steps."""
    sampler = DiscreteDDIM(8, corrector_steps=2)
    assert sampler.schedule() == (4, 2)
    assert sampler.calls() == [(0, "predict"), (0, "correct"), (0, "correct"), (1, "predict"), (1, "correct"),
                               (1, "correct"), (2, "predict"), (3, "predict")]
    assert DiscreteDDIM(1, corrector_steps=3).schedule() == (1, 0)


@pytest.mark.parametrize("settings", [dict(corrector_steps=-1), dict(corrector_selection="worst"),
                                      dict(corrector_selection_tau=0.0), dict(confidence_threshold=-1.0),
                                      dict(stability_threshold=-1), dict(corrector_k=-1)])
def test_bad_corrector_and_stop_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        DiscreteDDIM(**settings)


def test_the_installed_scheduler_with_its_corrector_follows_the_exact_law():
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from diffusers import DiscreteDDIMScheduler

    sampler, n = DiscreteDDIM(5, 1.0, corrector_steps=1, corrector_k=2), 6000
    predictors, _ = sampler.schedule()
    scheduler = DiscreteDDIMScheduler(num_inference_steps=predictors, corrector_steps=1, corrector_k=2)
    scheduler.set_timesteps(predictors)
    generator = torch.Generator().manual_seed(0)

    def step(logits, k, canvas):
        done = scheduler.step(torch.from_numpy(logits), k, torch.from_numpy(canvas), temperature=1.0,
                              generator=generator)
        return done.prev_sample.numpy(), done.pred_logits.numpy()

    def correct(logits, k, canvas):
        return scheduler.step_correct(torch.from_numpy(logits), k, torch.from_numpy(canvas),
                                      generator=generator).prev_sample.numpy()

    counted = np.zeros(n, dtype=np.int64)
    samples = originals.diffusers_discrete_ddim(MODEL, n, np.random.default_rng(7), L, V, steps=5, temperature=1.0,
                                                corrector_steps=1, corrector_k=2, calls=counted,
                                                scheduler=(step, correct))
    law, calls = sampler.exact_law_and_calls(MODEL, V, L)
    assert chi_square_p(samples, law) > ALPHA and calls_agree(counted, calls)


def test_a_space_too_large_is_refused_before_allocating():
    import functools

    with pytest.raises(refimpl.MemoryLimitError, match="DiscreteDDIM's exact law at V=3, L=6"):
        with refimpl.memory_limit(10**6):
            DiscreteDDIM(2).exact_law(functools.partial(np.full, (1, 1, 1), 1.0), 3, 6)
