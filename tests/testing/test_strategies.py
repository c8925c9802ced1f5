"""refimpl.testing.strategies: every strategy used by a property test, and shrinking to small cases."""
import numpy as np
import pytest
import refimpl
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from refimpl.diffusion.schedules import check_schedule
from refimpl.laws import space
from refimpl.testing import strategies as rst

from tests.helpers import product_table


def entropy_of(table, positions):
    return refimpl.entropy(refimpl.marginal(table, positions)) if positions else 0.0


@given(rst.spaces(max_vocab=5, max_length=5, max_states=100, min_length=2))
def test_spaces_stay_within_the_budget(space_):
    vocab_size, length = space_
    assert 2 <= vocab_size <= 5 and 2 <= length <= 5 and vocab_size**length <= 100


@given(rst.laws())
def test_laws_are_laws(table):
    assert table.dtype == np.float64 and table.ndim >= 1 and table.shape == (table.shape[0],) * table.ndim
    assert np.all(table >= 0) and abs(table.sum() - 1.0) < 1e-12


@given(rst.laws(kinds=["product"], min_length=2))
def test_product_laws_have_no_total_correlation(table):
    rows = refimpl.marginals(table)
    np.testing.assert_allclose(table, product_table(rows), atol=1e-14)
    assert refimpl.total_correlation(table) < 1e-12


@given(rst.laws(kinds=["markov"], min_length=3, max_length=4))
def test_markov_laws_forget_the_past_given_the_present(table):
    for i in range(table.ndim - 2):  # I(X_<=i ; X_{i+2} | X_{i+1}) = 0
        past, now, nxt = list(range(i + 1)), [i + 1], [i + 2]
        cmi = (entropy_of(table, past + now) + entropy_of(table, now + nxt) - entropy_of(table, now)
               - entropy_of(table, past + now + nxt))
        assert abs(cmi) < 1e-10


@given(rst.laws(kinds=["coupled"], min_length=4, max_length=4, max_vocab=3))
def test_coupled_laws_couple_neighbours_and_nothing_else(table):
    assert refimpl.mutual_information(table, [0, 1], [2, 3]) < 1e-12  # pairs are independent
    pair = refimpl.marginal(table, [0, 1])
    assert np.count_nonzero(pair) <= 2  # each pair takes one of two token pairs


def test_sparse_laws_hold_zero_probability_sequences():
    table = rst.law_table("sparse", 5, 3, 3, zero_fraction=0.8)
    assert 0 < np.count_nonzero(table) < table.size and abs(table.sum() - 1) < 1e-12


@given(rst.laws(kinds=["dirichlet"], concentrations=st.sampled_from([1e-3, 100.0]), min_length=2))
def test_dirichlet_laws_of_any_concentration(table):
    assert abs(table.sum() - 1.0) < 1e-12 and np.all(np.isfinite(table))


@given(rst.laws_with_partial(positive=True))
def test_partial_sequences_of_positive_probability_have_conditionals(case):
    table, partial = case
    assert partial.shape == (table.ndim,) and np.all((partial >= 0) & (partial <= table.shape[0]))
    cond = refimpl.conditional_law(table, partial)  # raises ZeroProbabilityError if p(z_C) = 0
    assert abs(cond.sum() - 1.0) < 1e-12


@given(rst.spaces().flatmap(lambda s: rst.partial_sequences(vocab_size=s[0], length=s[1])))
def test_partial_sequences_without_a_law_hold_tokens_and_masks(partial):
    assert partial.dtype == np.int64 and partial.min() >= 0


@given(rst.schedules())
def test_schedules_are_valid_and_decrease(schedule):
    check_schedule(schedule)
    alpha = schedule.alpha(np.linspace(0, 1, 101))
    assert np.all(np.diff(alpha) <= 1e-15) and abs(alpha[0] - 1.0) < 1e-3


@pytest.mark.parametrize("family", rst.FAMILIES)
@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_samplers_of_every_family_have_an_exact_law(family, data):
    table = data.draw(rst.laws(max_vocab=2, max_length=3, min_length=1))
    vocab_size, length = table.shape[0], table.ndim
    sampler = data.draw(rst.samplers(length, families=[family]))
    law = refimpl.exact_law(refimpl.oracle_denoiser(table), sampler, length=length, vocab_size=vocab_size)
    assert np.all(law >= 0) and abs(law.sum() - 1.0) < 1e-12
    drawn = refimpl.sample(refimpl.oracle_denoiser(table), sampler, 50, np.random.default_rng(0), length, vocab_size)
    assert np.all(law.ravel()[space.encode(drawn, vocab_size)] > 0)  # every sample where the exact law has mass


@given(rst.laws(max_vocab=3, max_length=3))
def test_one_token_per_step_samplers_at_temperature_one_reproduce_the_law(table):
    for sampler in (refimpl.samplers.FirstHitting(), refimpl.samplers.LeftToRight(1.0), refimpl.samplers.RandomK(1)):
        law = refimpl.exact_law(refimpl.oracle_denoiser(table), sampler, length=table.ndim, vocab_size=table.shape[0])
        np.testing.assert_allclose(law, table, atol=1e-12)


@settings(max_examples=20)
@given(data=st.data())
def test_denoisers_are_valid_deterministic_and_no_better_than_the_oracle(data):
    table = data.draw(rst.laws(max_vocab=3, max_length=3))
    denoiser = data.draw(rst.denoisers(table))
    vocab_size, length = table.shape[0], table.ndim
    z = space.partial_sequences(vocab_size, length)
    mu = denoiser(z)
    assert mu.shape == z.shape + (vocab_size,) and np.allclose(mu.sum(-1), 1.0) and np.all(mu >= 0)
    clean = z != vocab_size
    assert np.all(mu[clean].argmax(-1) == z[clean]) and np.allclose(mu[clean].max(-1), 1.0)
    np.testing.assert_array_equal(denoiser(z), mu)
    assert refimpl.nelbo(denoiser, table) >= refimpl.entropy(table) - 1e-10
    assert repr(denoiser) and len(repr(denoiser)) < 120


def test_a_failing_property_shrinks_to_a_small_readable_case():
    """'Every law has total correlation below 0.3 nats' is false; hypothesis shrinks its counterexample
    to a small space (the acceptance bound: V <= 3, L <= 4)."""
    found = find(rst.laws(max_vocab=6, max_length=6, max_states=4096),
                 lambda table: refimpl.total_correlation(table) > 0.3, settings=settings(database=None, max_examples=2000))
    assert found.shape[0] <= 3 and found.ndim <= 4
    assert refimpl.total_correlation(found) > 0.3


@pytest.mark.parametrize("call", [
    lambda: rst.spaces(min_vocab=1), lambda: rst.spaces(max_vocab=9, min_length=5, max_states=10),
    lambda: rst.laws(kinds=["nope"]), lambda: rst.laws(kinds=[]), lambda: rst.laws(max_length=0),
    lambda: rst.partial_sequences(), lambda: rst.partial_sequences(np.ones(3)),
    lambda: rst.partial_sequences(vocab_size=1, length=2),
    lambda: rst.samplers(3, families=["nope"]), lambda: rst.samplers(0),
    lambda: rst.denoisers(np.ones(3)), lambda: rst.denoisers(np.full((2, 2), 0.25), kinds=["nope"]),
    lambda: rst.law_table("nope", 0, 2, 2),
])
def test_bad_strategy_arguments_raise_clear_errors(call):
    with pytest.raises(refimpl.RefimplError):
        call()


def test_a_concentration_strategy_that_gives_bad_values_is_refused_when_drawn():
    @given(rst.laws(concentrations=st.just(-1.0)))
    def property_(table):
        pass

    with pytest.raises(refimpl.RefimplError, match="concentrations must give floats > 0"):
        property_()


PINNED = {"cfg_scale": 0.0, "remasking": "low_confidence", "temperature": 0.5}


@settings(max_examples=40, deadline=None)
@given(rst.samplers(4, families=["llada", "threshold", "first_hitting"], fixed=PINNED))
def test_fixed_parameters_pin_what_a_users_sampler_supports(sampler):
    """fixed= applies each name to the families that have it, and leaves the others alone."""
    for name, value in PINNED.items():
        if hasattr(sampler, name):
            assert getattr(sampler, name) == value, sampler


def test_without_fixed_the_strategy_draws_guidance_and_random_remasking():
    found = find(rst.samplers(4, families=["llada"]), lambda s: s.cfg_scale > 0 and s.remasking == "random",
                 settings=settings(max_examples=2000, database=None))
    assert found.cfg_scale > 0


@pytest.mark.parametrize("fixed", [{"nope": 1}, "cfg_scale=0", {3: 1}])
def test_fixed_names_no_chosen_family_has_are_refused(fixed):
    with pytest.raises(refimpl.RefimplError):
        rst.samplers(4, families=["llada", "threshold"], fixed=fixed)
