"""proofs/homogenisation.md on random reversible chains: exact conditional marginals of the chain's
law table (refimpl's code path) against the one- and two-sided bounds (the proof's formulas)."""
import numpy as np
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl.experiments.homogenisation import one_sided_bound, two_sided_bound
from refimpl.laws import datasets


@settings(max_examples=25)
@given(st.integers(2, 4), st.integers(3, 6), st.integers(0, 2**32 - 1), st.data())
def test_bounds_hold_for_random_reversible_chains(vocab_size, length, seed, data):
    """proofs/homogenisation.md: TV(p(x_d | x_1 = a), pi) <= C_a lambda_*^d, and the two-sided bound."""
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.05, 1.0, size=(vocab_size, vocab_size))
    weights = weights + weights.T  # symmetric weights: reversible, pi proportional to row sums
    transition = weights / weights.sum(axis=1, keepdims=True)
    pi = weights.sum(axis=1) / weights.sum()
    lam = np.sort(np.abs(np.linalg.eigvals(transition)))[-2]
    law = datasets.markov_chain(pi, transition, length)
    a = data.draw(st.integers(0, vocab_size - 1))
    b = data.draw(st.integers(0, vocab_size - 1))
    one = np.full(length, vocab_size)
    one[0] = a
    marginals = refimpl.conditional_marginals(law, one)
    for d in range(1, length):
        assert refimpl.tv(marginals[d], pi) <= one_sided_bound(pi, a, lam, d) + 1e-12
    two = one.copy()
    two[-1] = b
    marginals = refimpl.conditional_marginals(law, two)
    for d in range(1, length - 1):
        assert refimpl.tv(marginals[d], pi) <= two_sided_bound(pi, a, b, lam, d, length - 1 - d) + 1e-12
