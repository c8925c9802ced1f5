"""Helpers only refimpl's own tests need; the strategies, laws and denoisers they test with come from
refimpl.testing (the toolkit is tested by use)."""
import functools

import numpy as np
from refimpl.interop.goodness import chi_square_fit
from refimpl.testing.denoisers import RandomDenoiser
from refimpl.testing.strategies import dirichlet_table


def random_table(rng, vocab_size, length, concentration=1.0, zero_fraction=0.0):
    """A Dirichlet law from ``rng``'s stream (refimpl.testing.strategies.dirichlet_table)."""
    return dirichlet_table(rng, vocab_size, length, concentration, zero_fraction)


def random_denoiser(rng, vocab_size, length, sharpness=1.0, oracle=None, mix=0.0):
    """Random rows from ``rng``'s stream; with ``oracle`` and ``mix``, (1 - mix) oracle + mix random
    (refimpl.testing.denoisers.RandomDenoiser)."""
    return RandomDenoiser(vocab_size, length, rng, sharpness, oracle=oracle, mix=mix if oracle is not None else 1.0)


def product_table(rows):
    """Outer product of per-position rows, written independently of refimpl.datasets.product."""
    table = np.ones(())
    for row in rows:
        table = table[..., None] * np.asarray(row)
    return table


def chi_square_pvalue(counts, expected_probs):
    """Pearson chi-square p-value (cells with expected count < 5 pooled); no sample may fall where the
    exact law has no mass."""
    fit = chi_square_fit(counts, expected_probs, alpha=1e-3)
    assert fit.impossible == 0, "samples fell where the exact law has no mass"
    return fit.p_value


@functools.cache
def sampler_law_and_denoisers():
    """The law (V=3, L=4) and the two denoisers ("oracle", "random") the sampler tests share."""
    import refimpl

    rng = np.random.default_rng(2024)
    table = random_table(rng, 3, 4, concentration=0.4)
    oracle = refimpl.oracle_denoiser(table)
    other = random_denoiser(rng, 3, 4, sharpness=1.5)
    return table, {"oracle": oracle, "random": other}
