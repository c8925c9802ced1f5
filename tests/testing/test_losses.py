"""assert_loss_matches_nelbo: a correct MDLM/LLaDA-style loss passes, common slips fail with the size of
the error, computed here independently (every x0 and mask pattern, the t-integral in closed form)."""
import math
import re

import numpy as np
import pytest
import refimpl
from refimpl.diffusion import schedules as sch
from refimpl.laws import datasets, space
from refimpl.testing import assert_loss_matches_nelbo, perturbed_oracle
from scipy.special import log_softmax

TABLE = datasets.dirichlet(3, 3, np.random.default_rng(11), concentration=0.5).table
V, L = 3, 3


def masked_ce(logits, x0, z):
    lp = np.take_along_axis(log_softmax(logits, axis=-1), x0[..., None], axis=-1)[..., 0]
    return -np.where(z == V, lp, 0.0).sum(axis=1)


def mdlm_loss(schedule):
    return lambda logits, x0, z, t: schedule.weight(t) * masked_ce(logits, x0, z)


def llada_loss(logits, x0, z, t):  # LLaDA: CE / p_mask summed over masked tokens, divided by (B * L)
    return (masked_ce(logits, x0, z) / t).sum() / (len(t) * L)


def unweighted_integral(denoiser):
    """E over t ~ U(0, 1), x0 ~ p, z ~ q_t(. | x0) (linear schedule) of the masked cross-entropy alone:
    sum over x0 and mask patterns m of p(x0) B(|m| + 1, L - |m| + 1) CE(x0, m), B the Beta integral."""
    total = 0.0
    for x in space.clean_sequences(V, L):
        px = TABLE[tuple(x)]
        if px == 0:
            continue
        for bits in space.clean_sequences(2, L):
            k = int(bits.sum())
            if k == 0:
                continue
            z = np.where(bits == 1, V, x)[None]
            mu = denoiser(z)[0]
            ce = -sum(math.log(mu[i, x[i]]) for i in range(L) if bits[i])
            total += px * math.factorial(k) * math.factorial(L - k) / math.factorial(L + 1) * ce
    return total


@pytest.mark.parametrize("schedule", [sch.Linear(), sch.Cosine(), sch.LogLinear(eps=0.05), sch.Polynomial(power=0.5),
                                      sch.Geometric()])
def test_a_correct_mdlm_loss_passes_and_its_expectation_is_the_exact_nelbo(schedule):
    out = assert_loss_matches_nelbo(mdlm_loss(schedule), TABLE, schedule=schedule)
    denoiser = perturbed_oracle(TABLE, 0.25, 0)
    assert out["rows_that_differ"] == 0
    np.testing.assert_allclose(out["nelbo"] + out["reconstruction"], refimpl.nelbo(denoiser, TABLE, schedule), rtol=1e-12)
    assert abs(out["expected_loss"] - out["nelbo"]) < 1e-10


def test_a_llada_style_per_token_loss_that_averages_the_batch_passes():
    out = assert_loss_matches_nelbo(llada_loss, TABLE, per="token", reduction="mean", nodes=8)
    assert abs(out["nelbo"] - refimpl.nelbo(perturbed_oracle(TABLE, 0.25, 0), TABLE) / L) < 1e-12


def test_a_loss_without_the_weight_fails_with_the_size_of_the_error():
    with pytest.raises(AssertionError) as error:
        assert_loss_matches_nelbo(lambda logits, x0, z, t: masked_ce(logits, x0, z), TABLE)
    message = str(error.value)
    denoiser = perturbed_oracle(TABLE, 0.25, 0)
    expected_error = unweighted_integral(denoiser) - refimpl.nelbo(denoiser, TABLE)
    shown = float(re.search(r"error ([+-][0-9.e+-]+) nats", message).group(1))
    assert abs(shown - expected_error) <= 1e-3 * abs(expected_error)
    assert "without the weight w(t)" in message and "worst row" in message


def test_a_loss_that_sums_over_clean_positions_fails_and_says_so():
    def every_position(logits, x0, z, t):
        lp = np.take_along_axis(log_softmax(logits, axis=-1), x0[..., None], axis=-1)[..., 0]
        return -lp.sum(axis=1) / t

    with pytest.raises(AssertionError, match="clean positions' cross-entropy is included"):
        assert_loss_matches_nelbo(every_position, TABLE)


def test_a_per_token_loss_checked_as_per_sequence_fails_naming_the_normalisation():
    with pytest.raises(AssertionError, match=r"constant factor 0.333333.*per='token'"):
        assert_loss_matches_nelbo(lambda *a: mdlm_loss(sch.Linear())(*a) / L, TABLE)


def test_a_loss_that_reads_one_time_for_the_whole_batch_fails():
    with pytest.raises(AssertionError, match="rows differ"):
        assert_loss_matches_nelbo(lambda logits, x0, z, t: masked_ce(logits, x0, z) / t[0], TABLE)


def test_a_mean_over_masked_tokens_is_named():
    def mean_over_masked(logits, x0, z, t):
        return masked_ce(logits, x0, z) / t / np.maximum((z == V).sum(axis=1), 1)

    with pytest.raises(AssertionError, match="mean over masked tokens"):
        assert_loss_matches_nelbo(mean_over_masked, TABLE)


def test_expectation_only_mode_accepts_a_loss_that_differs_row_by_row_but_not_on_average():
    schedule = sch.Linear()

    def reshuffled(logits, x0, z, t):  # w(t) CE, plus a term whose expectation over x0 is zero
        correct = mdlm_loss(schedule)(logits, x0, z, t)
        return correct + np.where(x0[:, 0] == 0, 1.0 / TABLE.sum(axis=(1, 2))[0], 0.0) - 1.0

    with pytest.raises(AssertionError):
        assert_loss_matches_nelbo(reshuffled, TABLE)
    out = assert_loss_matches_nelbo(reshuffled, TABLE, pointwise=False)
    assert abs(out["error"]) < 1e-9 and out["rows_that_differ"] > 0


@pytest.mark.parametrize("kwargs", [dict(per="word"), dict(reduction="sum"), dict(pointwise="yes"), dict(rtol=-1),
                                    dict(nodes=1), dict(seed=-3), dict(schedule="linear"), dict(p=np.ones(3))])
def test_bad_arguments_raise_clear_errors(kwargs):
    args = dict(loss_fn=mdlm_loss(sch.Linear()), p=TABLE) | kwargs
    with pytest.raises(refimpl.RefimplError):
        assert_loss_matches_nelbo(**args)


def test_a_loss_returning_the_wrong_shape_or_not_callable_is_refused():
    with pytest.raises(refimpl.RefimplError, match="reduction='mean'"):
        assert_loss_matches_nelbo(lambda logits, x0, z, t: masked_ce(logits, x0, z).sum(), TABLE)
    with pytest.raises(refimpl.RefimplError, match="callable"):
        assert_loss_matches_nelbo("loss", TABLE)
