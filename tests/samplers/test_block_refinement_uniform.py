"""diffusers' BlockRefinementScheduler without a mask token as DiffusionGemmaPipeline drives it (issue #38, rule R9):
the exact law and calls against the pipeline's loop re-written in tests/originals.py and against the installed
scheduler's own step (chi-square and a normal interval at 1e-3, seeded), a wrong setting rejected, editing at 0.0,
and bad input."""
import dataclasses
import functools

import numpy as np
import pytest
import refimpl
from refimpl.diffusion.uniform_oracles import time_agnostic_oracle, uniform_oracle
from refimpl.samplers.block_refinement_uniform import UniformBlockRefinement

from tests import originals
from tests.helpers import random_table
from tests.samplers.test_renoise import ALPHA, calls_agree, chi_square_p

V, L = 3, 3
TABLE = random_table(np.random.default_rng(10), V, L, concentration=0.3)
SHARP = uniform_oracle(TABLE, 0.9)
AGNOSTIC = time_agnostic_oracle(TABLE)


def loop(sampler, model, n, seed, **changes):
    settings = {f.name: getattr(sampler, f.name) for f in dataclasses.fields(sampler)} | changes
    counted = np.zeros(n, dtype=np.int64)
    out = originals.diffusers_block_refinement(model, n, np.random.default_rng(seed), L, V, calls=counted, **settings)
    return out, counted


@pytest.mark.parametrize("sampler, model", [
    (UniformBlockRefinement(4, confidence_threshold=0.3), SHARP),
    (UniformBlockRefinement(3, temperature=1.0, confidence_threshold=None), AGNOSTIC),
    (UniformBlockRefinement(4, threshold=0.5, editing_threshold=0.0, temperature=1.0, confidence_threshold=None),
     AGNOSTIC),
    (UniformBlockRefinement(2, threshold=0.6, editing_threshold=0.7, temperature=0.5, stability_threshold=0,
                            confidence_threshold=0.4), SHARP),
    (UniformBlockRefinement(5, threshold=0.5, temperature=0.5, stability_threshold=2, confidence_threshold=0.6), SHARP),
], ids=["greedy-stop", "t1", "edit-0", "edit-0.7-s0", "s2"])
def test_the_pipelines_loop_follows_the_exact_law_and_calls(sampler, model):
    law, calls = sampler.exact_law_and_calls(model, V, L)
    out, counted = loop(sampler, model, 5000, 1)
    assert chi_square_p(out, law) > ALPHA and calls_agree(counted, calls)
    mine, my_calls = sampler.sample(model, 5000, np.random.default_rng(2), V, L)  # refimpl's own draws
    assert chi_square_p(mine, law) > ALPHA and calls_agree(my_calls, calls)


def test_the_check_can_fail():
    """Editing at 0.0 (every change) against the law without editing: the loop tells them apart."""
    sampler = UniformBlockRefinement(4, threshold=0.5, temperature=1.0, confidence_threshold=None)
    law, _ = sampler.exact_law_and_calls(AGNOSTIC, V, L)
    edited = dataclasses.replace(sampler, editing_threshold=0.0).exact_law_and_calls(AGNOSTIC, V, L)[0]
    out, _ = loop(sampler, AGNOSTIC, 5000, 3, editing_threshold=0.0)
    assert refimpl.tv(law, edited) > 0.02 and chi_square_p(out, law) < ALPHA


def test_one_step_commits_every_draw_and_editing_needs_a_committed_position():
    """One step: the quota is L, so every position takes its draw — the product of the tempered answers at a random
    canvas, averaged over canvases — and no edit can happen (nothing was committed before)."""
    grid = np.indices((V,) * L).reshape(L, -1).T
    mu = np.asarray(AGNOSTIC(grid))
    expected = sum(np.einsum("a,b,c->abc", *row) for row in mu) / len(grid)
    for editing in (None, 0.0):
        law, calls = UniformBlockRefinement(1, editing_threshold=editing, temperature=1.0,
                                            confidence_threshold=None).exact_law_and_calls(AGNOSTIC, V, L)
        np.testing.assert_allclose(law, expected, atol=1e-14)
        assert calls == 1.0


def test_the_installed_scheduler_step_follows_the_exact_law():
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    from diffusers import BlockRefinementScheduler

    sampler, n = UniformBlockRefinement(3, threshold=0.6, editing_threshold=0.5, temperature=1.0,
                                        confidence_threshold=None), 5000
    scheduler = BlockRefinementScheduler(block_length=L, num_inference_steps=sampler.steps,
                                         threshold=sampler.threshold, editing_threshold=sampler.editing_threshold)
    scheduler.set_timesteps(sampler.steps, block_length=L)
    generator = torch.Generator().manual_seed(0)

    def step(logits, k, canvas, committed):  # the scheduler keeps the committed set itself: one batch of n runs
        done = scheduler.step(torch.from_numpy(logits), k, torch.from_numpy(canvas), mask_token_id=None,
                              temperature=sampler.temperature, generator=generator)
        return done.prev_sample.numpy(), done.pred_logits.numpy()

    out, counted = loop(sampler, AGNOSTIC, n, 4, scheduler_step=step)
    law, calls = sampler.exact_law_and_calls(AGNOSTIC, V, L)
    assert chi_square_p(out, law) > ALPHA and calls_agree(counted, calls)


@pytest.mark.parametrize("settings, match", [
    (dict(steps=0), "steps"), (dict(temperature=-1.0), "temperature"), (dict(threshold="high"), "threshold"),
    (dict(stability_threshold=-1), "stability_threshold"), (dict(confidence_threshold=-0.1), "confidence_threshold"),
    (dict(editing_threshold=float("nan")), "editing_threshold"),
])
def test_bad_settings_are_one_clear_error(settings, match):
    with pytest.raises(refimpl.RefimplError, match=match):
        UniformBlockRefinement(**settings)


def test_a_space_too_large_is_refused_before_allocating():
    with pytest.raises(refimpl.MemoryLimitError, match="UniformBlockRefinement's exact law"):
        with refimpl.memory_limit(10**6):
            UniformBlockRefinement(2).exact_law_and_calls(functools.partial(np.full, (1, 1, 1), 1.0), 3, 6)
