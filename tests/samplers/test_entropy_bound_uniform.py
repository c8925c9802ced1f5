"""diffusers' EntropyBoundScheduler in its mask-free mode as DiffusionGemmaPipeline drives it (issue #38, rules
R8-R9): the exact law and calls against the pipeline's loop re-written in tests/originals.py and against the installed
scheduler's own step (chi-square and a normal interval at 1e-3, seeded), the cooling as coded against as documented,
the renoised output of a run that never stops, and bad input."""
import dataclasses

import numpy as np
import pytest
import refimpl
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from refimpl.samplers.renoise import Renoise, UniformEntropyBound

from tests import originals
from tests.helpers import random_table
from tests.samplers.test_renoise import ALPHA, calls_agree, chi_square_p

V, L = 3, 3
TABLE = random_table(np.random.default_rng(9), V, L, concentration=0.3)
SHARP = uniform_oracle(TABLE, 0.9)


def settings_of(sampler):
    return dict(steps=sampler.steps, entropy_bound=sampler.entropy_bound, t_max=sampler.max_temperature,
                t_min=sampler.min_temperature, stability_threshold=sampler.stability_threshold,
                confidence_threshold=sampler.confidence_threshold)


@pytest.mark.parametrize("sampler, model", [
    (UniformEntropyBound(6, confidence_threshold=0.3), SHARP),
    (UniformEntropyBound(5, entropy_bound=0.5, confidence_threshold=0.5, stability_threshold=0), SHARP),
    (UniformEntropyBound(4, max_temperature=1.0, min_temperature=0.6), time_agnostic_oracle(TABLE)),
    (UniformEntropyBound(4, confidence_threshold=None), SHARP),
    (UniformEntropyBound(7, confidence_threshold=0.4, stability_threshold=2), SHARP),
], ids=["s1", "s0-acts-as-s1", "agnostic", "no-stop", "s2"])
def test_the_pipelines_loop_follows_the_exact_law_and_calls(sampler, model):
    law, calls = sampler.exact_law_and_calls(model, V, L)
    counted = np.zeros(5000, dtype=np.int64)
    out = originals.diffusers_entropy_bound(model, 5000, np.random.default_rng(1), L, V, calls=counted,
                                            **settings_of(sampler))
    assert chi_square_p(out, law) > ALPHA and calls_agree(counted, calls)
    mine, my_calls = sampler.sample(model, 5000, np.random.default_rng(2), V, L)  # refimpl's own draws
    assert chi_square_p(mine, law) > ALPHA and calls_agree(my_calls, calls)


def test_the_installed_scheduler_step_follows_the_exact_law():
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from diffusers import EntropyBoundScheduler

    sampler, model, n = UniformEntropyBound(4, confidence_threshold=0.3), SHARP, 5000
    scheduler = EntropyBoundScheduler(entropy_bound=sampler.entropy_bound, t_max=sampler.max_temperature,
                                      t_min=sampler.min_temperature, num_inference_steps=sampler.steps)
    scheduler.set_timesteps(sampler.steps)
    generator = torch.Generator().manual_seed(0)

    def step(logits, k, canvas):
        done = scheduler.step(torch.from_numpy(logits), k, torch.from_numpy(canvas), generator=generator)
        return done.prev_sample.numpy(), done.pred_logits.double().numpy()

    counted = np.zeros(n, dtype=np.int64)
    out = originals.diffusers_entropy_bound(model, n, np.random.default_rng(3), L, V, calls=counted,
                                            scheduler_step=step, **settings_of(sampler))
    law, calls = sampler.exact_law_and_calls(model, V, L)
    assert chi_square_p(out, law) > ALPHA and calls_agree(counted, calls)


def test_a_run_that_never_stops_outputs_its_renoised_canvas_not_its_argmax():
    """Without a stop rule the output is the last step's renoised canvas: accepted draws where the entropy budget
    admits them and uniform noise elsewhere — with a bound of 0 only the lowest-entropy position keeps its draw, so the
    law is (that position's draw) x (uniform) x (uniform) on the one-step chain; dllm's Renoise outputs the argmax."""
    sampler = UniformEntropyBound(1, entropy_bound=0.0, confidence_threshold=None)
    law, calls = sampler.exact_law_and_calls(SHARP, V, L)
    grid = np.indices((V,) * L).reshape(L, -1).T
    q, accepted, _, _ = sampler.view(np.asarray(SHARP(grid)), 1)
    expected = np.zeros((V,) * L)
    for z in range(len(grid)):
        factors = np.where(accepted[z][:, None], q[z], 1.0 / V)
        expected += np.einsum("a,b,c->abc", *factors) / len(grid)
    np.testing.assert_allclose(law, expected, atol=1e-14)
    assert calls == 1.0
    argmax_law, _ = Renoise(1, entropy_bound=0.0, confidence_threshold=None).exact_law_and_calls(SHARP, V, L)
    assert refimpl.tv(law, argmax_law) > 0.1


def test_the_cooling_as_coded_ends_above_t_min_and_the_documented_one_at_it():
    coded, documented = UniformEntropyBound(4), UniformEntropyBound(4, cooling="documented")
    assert [coded.temperature(r) for r in (4, 3, 2, 1)] == pytest.approx([0.8, 0.7, 0.6, 0.5])
    assert [documented.temperature(r) for r in (4, 3, 2, 1)] == pytest.approx([0.8, 0.8 - 0.4 / 3, 0.4 + 0.4 / 3, 0.4])
    assert UniformEntropyBound(1, cooling="documented").temperature(1) == pytest.approx(0.8)
    model = time_agnostic_oracle(TABLE)
    a = coded.exact_law_and_calls(model, V, L)[0]
    b = documented.exact_law_and_calls(model, V, L)[0]
    assert refimpl.tv(a, b) > 1e-3  # the difference, measured: the laws differ
    counted = np.zeros(4000, dtype=np.int64)
    out = originals.diffusers_entropy_bound(model, 4000, np.random.default_rng(5), L, V, calls=counted,
                                            **settings_of(coded))
    assert chi_square_p(out, a) > ALPHA


@pytest.mark.parametrize("settings, match", [
    (dict(steps=0), "steps"), (dict(entropy_bound=-0.1), "entropy_bound"), (dict(cooling="linear"), "cooling"),
    (dict(min_temperature=0.9), "min_temperature <= max"), (dict(confidence_threshold=-1.0), "confidence_threshold"),
])
def test_bad_settings_are_one_clear_error(settings, match):
    with pytest.raises(refimpl.RefimplError, match=match):
        UniformEntropyBound(**settings)


def test_it_is_renoise_where_the_two_agree():
    """The output rule changes no call: the calls equal dllm's Renoise's; and where every run stops before the budget
    ends (every answer certain: the stop fires at step 2), both output the argmax canvas — the same law."""
    sampler = UniformEntropyBound(6, confidence_threshold=0.3)
    fields = {f.name: getattr(sampler, f.name) for f in dataclasses.fields(Renoise)}
    assert sampler.exact_law_and_calls(SHARP, V, L)[1] == pytest.approx(
        Renoise(**fields).exact_law_and_calls(SHARP, V, L)[1], abs=1e-12)
    sure = uniform_oracle(refimpl.datasets.product([[0.0, 1.0, 0.0]] * 3).table, 0.5)
    a, calls = UniformEntropyBound(6, confidence_threshold=0.01).exact_law_and_calls(sure, V, L)
    b, _ = Renoise(6, confidence_threshold=0.01).exact_law_and_calls(sure, V, L)
    assert calls == pytest.approx(2.0, abs=1e-12) and a[1, 1, 1] == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(a, b, atol=1e-12)
