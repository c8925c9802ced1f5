"""The usual slips (issue #36, builds 5 and 6): the loop enumerator against refimpl's engine and against a NumPy
Monte Carlo of the slipped loop, blind spots where a slip provably changes nothing, diagnoses that name the slip a
NumPy sampler makes, propose_setting, and bad input."""
import warnings

import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl import samplers
from refimpl.interop.goodness import chi_square_fit
from refimpl.testing.diagnosis import outcome_counts
from refimpl.testing.loops import llada_loop_law
from refimpl.testing.slips import Tempered, usual_slips

V, L = 3, 4
LAW = np.random.default_rng(17).dirichlet(np.full(V ** L, 0.5)).reshape((V,) * L)
MODEL = rt.perturbed_oracle(LAW, mix=0.3, seed=1)


@pytest.mark.parametrize("steps, block, temperature, prompt", [(4, 2, 0.0, None), (4, 2, 0.7, None), (2, None, 1.0, None),
                                                               (4, 1, 0.5, None), (3, None, 0.5, [0, 3, 3, 3]),
                                                               (2, 1, 0.3, [1, 2, 3, 3])])
def test_the_loop_enumeration_is_refimpls_llada_law_computed_a_second_way(steps, block, temperature, prompt):
    exact = refimpl.exact_law(MODEL, samplers.LLaDA(steps, block, temperature), L, V, prompt=prompt)
    law, left = llada_loop_law(MODEL, V, L, None if prompt is None else np.array(prompt), steps, block, temperature)
    np.testing.assert_allclose(law, exact, atol=1e-12)
    assert left.sum() == 0


def numpy_llada(z, denoiser, rng, steps, block_length, temperature, boundary=0, mask_logit=None, twice=False,
                tempered=False):
    """A NumPy LLaDA loop written from generate.py, a row at a time, with the slips switchable."""
    n, length = z.shape
    for b in range(length // block_length):
        end = (b + 1) * block_length
        per_block = steps // (length // block_length)
        counts = [[m // per_block + (i < m % per_block) for i in range(per_block)]  # get_num_transfer_tokens
                  for m in (z[:, end - block_length:end] == V).sum(axis=1)]
        for i in range(per_block):
            with np.errstate(divide="ignore"):
                logits = np.log(denoiser(z))
            if mask_logit is not None:
                logits = np.concatenate([logits, np.full(logits.shape[:-1] + (1,), mask_logit)], axis=-1)
            if twice:
                logits = logits / temperature
            gumbel = -np.log(-np.log(rng.random(logits.shape)))
            x0 = np.argmax(logits / temperature + gumbel, axis=-1) if temperature > 0 else np.argmax(logits, axis=-1)
            e = np.exp(logits / (temperature if tempered else 1.0))
            conf = np.take_along_axis(e / e.sum(axis=-1, keepdims=True), x0[..., None], axis=-1)[..., 0]
            conf[:, end + boundary:] = -np.inf
            masked = z == V
            conf = np.where(masked, conf, -np.inf)
            for row in range(n):
                keep = np.argsort(-conf[row], kind="stable")[:counts[row][i]]
                z[row, keep] = np.where(masked[row, keep], x0[row, keep], z[row, keep])
    return z


@pytest.mark.parametrize("change", [dict(boundary=1), dict(boundary=-1), dict(mask_logit=-1.0)])
def test_the_enumerated_slips_match_a_monte_carlo_of_the_slipped_loop(change):
    """Chi-square at alpha = 1e-3 (seeded), on the clean outputs and every pattern of masks left."""
    rng = np.random.default_rng(3)
    drawn = numpy_llada(np.full((6000, L), V), MODEL, rng, 4, 2, 0.7, **change)
    law, patterns = llada_loop_law(MODEL, V, L, None, 4, 2, 0.7, **change)
    clean, masks = outcome_counts(drawn, V, L)
    fit = chi_square_fit(np.append(clean, masks), np.append(law.ravel(), patterns), 1e-3)
    assert not fit.rejects(1e-3) and patterns.sum() > 0.05, (fit.p_value, fit.impossible, patterns.sum())


def test_blind_spots_where_a_slip_provably_changes_nothing():
    """A cutoff past the last position with one block, a step with no mask left to commit, T = 1 (no temperature
    slip to try) and a continuous model (no ties): their laws are the correct one, and the warning says so."""
    sampler = samplers.LLaDA(4, None, 1.0)
    law = refimpl.exact_law(MODEL, sampler, L, V)
    slips, notes = usual_slips(sampler, MODEL, L, V)
    same = {s.name for s in slips if s.tv(law) <= 1e-9}
    assert same == {"one step too many (steps=5)", "the block's end one position late (ranking cutoff at end + 1)",
                    "the other tie rule (tie='highest')"}, same
    assert not any("temperature" in s.name for s in slips)
    with pytest.warns(rt.BlindSpotWarning, match="one step too many .*block's end one position late"):
        rt.assert_sampler_matches(refimpl_sampler(sampler), sampler, MODEL, LAW, n=2000, seed=1)
    with pytest.raises(AssertionError, match="cannot see 3 of the usual slips"):
        rt.assert_sampler_matches(refimpl_sampler(sampler), sampler, MODEL, LAW, n=2000, seed=1, blind_spots="error")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rt.assert_sampler_matches(refimpl_sampler(sampler), sampler, MODEL, LAW, n=2000, seed=1, blind_spots="ignore")


def test_a_minus_infinite_mask_logit_is_named_as_a_blind_spot():
    _, notes = usual_slips(samplers.LLaDA(4, 2, 0.5), MODEL, L, V, mask_logit=float("-inf"))
    assert any("mask column left in the softmax cannot show" in note for note in notes)


def refimpl_sampler(sampler):
    def sample_fn(denoiser, n, rng, length, vocab_size, prompt):
        return refimpl.sample(denoiser, sampler, n, rng, length=length, vocab_size=vocab_size, prompt=prompt)
    return sample_fn


@pytest.mark.parametrize("slip, named", [(dict(twice=True), "temperature applied twice"),
                                         (dict(tempered=True), "confidence from tempered probabilities"),
                                         (dict(boundary=1), "the block's end one position late")])
def test_a_failing_numpy_sampler_is_diagnosed_with_its_own_slip(slip, named):
    def sample_fn(denoiser, n, rng, length, vocab_size, prompt):
        return numpy_llada(np.full((n, length), vocab_size), denoiser, rng, 4, 2, 0.3, **slip)
    with pytest.raises(AssertionError) as failure:
        rt.assert_sampler_matches(sample_fn, samplers.LLaDA(4, 2, 0.3), MODEL, LAW, n=8000, seed=2)
    assert f"the sample fits 1 of the usual slips of LLaDA (chi-square p > alpha = 0.001): {named}" in str(failure.value)


def test_the_tempered_model_is_the_softmax_of_the_logits_over_t():
    z = refimpl.space.partial_sequences(V, 2)
    mu = refimpl.oracle_denoiser(LAW.sum(axis=(2, 3)))(z)
    with np.errstate(divide="ignore"):
        expected = np.exp(np.log(mu) / 0.4) / np.exp(np.log(mu) / 0.4).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(Tempered(refimpl.oracle_denoiser(LAW.sum(axis=(2, 3))), 0.4)(z), expected, atol=1e-12)


def test_propose_setting_finds_a_setting_where_every_slip_shows():
    six = np.random.default_rng(3).dirichlet(np.full(V ** 6, 0.5)).reshape((V,) * 6)  # the 4th law it tries by default
    setting = rt.propose_setting(samplers.LLaDA(4, 3, 0.5), vocab_size=V, length=6, p=six, min_tv=0.05)
    assert setting.reaches and min(setting.tvs.values()) >= 0.05 and len(setting.tvs) == 8
    # recomputed independently: the tempered-confidence slip's TV there, from two exact laws
    law = refimpl.exact_law(setting.denoiser, setting.sampler, 6, V)
    tempered = refimpl.exact_law(Tempered(setting.denoiser, 0.5), samplers.LLaDA(4, 3, 1.0), 6, V)
    name = next(n for n in setting.tvs if n.startswith("confidence from tempered"))
    assert setting.tvs[name] == pytest.approx(0.5 * np.abs(law - tempered).sum(), abs=1e-12)
    one_block = rt.propose_setting(samplers.LLaDA(4, None, 0.5), vocab_size=2, length=2, min_tv=0.05, laws=1)
    assert not one_block.reaches and "NOT every slip" in str(one_block)


@pytest.mark.parametrize("call", [
    lambda: rt.propose_setting("llada"), lambda: rt.propose_setting(samplers.LLaDA(2), min_tv=2.0),
    lambda: rt.propose_setting(samplers.LLaDA(2), laws=0), lambda: rt.propose_setting(samplers.LLaDA(2), p=LAW, length=3),
    lambda: rt.propose_setting(samplers.LLaDA(2, None, 0.5), slips=["no such slip"], laws=1, length=2),
    lambda: rt.assert_sampler_matches(refimpl_sampler(samplers.LLaDA(2)), samplers.LLaDA(2), MODEL, LAW, n=10,
                                      blind_spots="loud")])
def test_bad_input_is_a_refimpl_error(call):
    with pytest.raises(refimpl.RefimplError):
        call()


def test_propose_setting_refuses_slips_that_are_not_names():
    """Found by the fuzz profile: a 0-d array for ``slips`` escaped as a TypeError."""
    for slips in (np.array(5.0), 5, [1, 2]):
        with pytest.raises(refimpl.RefimplError, match="slips must be"):
            refimpl.testing.propose_setting(refimpl.samplers.RandomK(1), vocab_size=2, length=3, slips=slips, laws=1)
