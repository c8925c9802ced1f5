"""The oracle where the known tokens' probability is subnormal (below 2.2e-308, whose reciprocal overflows): its
answers are still the exact conditionals, never inf or nan — found by the theory's property tests (issue #39)."""
import itertools
import warnings

import numpy as np
import pytest
import refimpl


def test_a_subnormal_marginal_gives_the_exact_conditional_in_both_of_the_oracles_paths():
    table = np.array([[0.5, 0.5 - 3e-320], [2e-320, 1e-320]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        oracle = refimpl.oracle_denoiser(table)
        z = np.array(list(itertools.product(range(3), repeat=2)))
        answers = oracle(z)
        law = refimpl.exact_law(oracle, refimpl.samplers.LLaDA(1, temperature=1.0), 2, 2)  # the engine's gathers
    assert np.all(np.isfinite(answers)) and np.allclose(answers.sum(axis=-1), 1.0)
    # position 1 given x_0 = 1 (probability 3e-320): p(x_1 = 0 | 1) = 2/3, p(x_1 = 1 | 1) = 1/3, divided directly
    np.testing.assert_allclose(oracle(np.array([[1, 2]]))[0, 1], [2 / 3, 1 / 3], rtol=1e-12)
    assert np.all(np.isfinite(law)) and law.sum() == pytest.approx(1.0, abs=1e-12)
