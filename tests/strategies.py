"""Hypothesis strategies for small vocabularies, lengths and random laws (one home for all tests)."""
import functools

import numpy as np
from hypothesis import strategies as st

CONCENTRATIONS = (0.05, 0.3, 1.0, 5.0)


@st.composite
def spaces(draw, max_vocab=4, max_length=4, min_length=1, max_states=256):
    """(V, L) with V**L at most ``max_states``."""
    vocab_size = draw(st.integers(2, max_vocab))
    lengths = [n for n in range(min_length, max_length + 1) if vocab_size**n <= max_states]
    return vocab_size, draw(st.sampled_from(lengths))


def random_table(rng, vocab_size, length, concentration=1.0, zero_fraction=0.0):
    """A Dirichlet law, optionally with a random fraction of sequences set to probability zero."""
    table = np.nan_to_num(rng.dirichlet(np.full(vocab_size**length, concentration)))
    if table.sum() == 0:  # every gamma draw underflowed (tiny concentration): a point mass
        table[rng.integers(table.size)] = 1.0
    if zero_fraction:
        keep = rng.random(table.size) >= zero_fraction
        keep[np.argmax(table)] = True
        table = np.where(keep, table, 0.0)
    table = table / table.sum()
    return table.reshape((vocab_size,) * length)


@st.composite
def laws(draw, max_vocab=4, max_length=4, min_length=1, max_states=256, zeros=True):
    """A random law table (float64, shape (V,)*L), sometimes with zero entries."""
    vocab_size, length = draw(spaces(max_vocab, max_length, min_length, max_states))
    seed = draw(st.integers(0, 2**32 - 1))
    concentration = draw(st.sampled_from(CONCENTRATIONS))
    zero_fraction = draw(st.sampled_from((0.0, 0.0, 0.3, 0.7))) if zeros else 0.0
    return random_table(np.random.default_rng(seed), vocab_size, length, concentration, zero_fraction)


@st.composite
def laws_with_partial(draw, positive=True, **kwargs):
    """(law, partial sequence); with ``positive`` the partial's clean part has positive probability."""
    table = draw(laws(**kwargs))
    vocab_size, length = table.shape[0], table.ndim
    masked = draw(st.lists(st.booleans(), min_size=length, max_size=length))
    if positive:
        support = np.argwhere(table > 0)
        x = support[draw(st.integers(0, len(support) - 1))]
    else:
        x = np.array(draw(st.lists(st.integers(0, vocab_size - 1), min_size=length, max_size=length)))
    partial = np.where(masked, vocab_size, x)
    return table, partial


def product_table(rows):
    """Outer product of per-position rows, written independently of refimpl.datasets.product."""
    table = np.ones(())
    for row in rows:
        table = table[..., None] * np.asarray(row)
    return table


def random_denoiser(rng, vocab_size, length, sharpness=1.0, oracle=None, mix=0.0):
    """A fixed, valid, non-oracle denoiser: random softmax rows per partial sequence and position.

    With ``oracle`` and ``mix`` in (0, 1] it returns ``(1 - mix) * oracle + mix * random``, a
    denoiser close to optimal.  Rows are looked up by the partial sequence's index, so the denoiser
    is a deterministic function of z.
    """
    count = (vocab_size + 1) ** length
    logits = sharpness * rng.standard_normal((count, length, vocab_size))
    rows = np.exp(logits - logits.max(axis=-1, keepdims=True))
    rows /= rows.sum(axis=-1, keepdims=True)
    weights = (vocab_size + 1) ** np.arange(length - 1, -1, -1)

    def denoiser(z):
        out = rows[z @ weights]  # (B, L, V)
        if oracle is not None:
            out = (1.0 - mix) * oracle(z) + mix * out
        clean = z != vocab_size
        out[clean] = np.eye(vocab_size)[z[clean]]
        return out

    return denoiser


def chi_square_pvalue(counts, expected_probs):
    """Pearson chi-square p-value; cells with expected count < 5 are pooled into one."""
    from scipy import stats

    counts = np.asarray(counts, dtype=float)
    expected = np.asarray(expected_probs, dtype=float) * counts.sum()
    small = expected < 5
    observed = np.append(counts[~small], counts[small].sum())
    wanted = np.append(expected[~small], expected[small].sum())
    keep = wanted > 0
    assert observed[~keep].sum() == 0, "samples fell where the exact law has no mass"
    observed, wanted = observed[keep], wanted[keep]
    if len(observed) < 2:
        return 1.0
    return stats.chisquare(observed, wanted * observed.sum() / wanted.sum()).pvalue


@functools.cache
def sampler_law_and_denoisers():
    """The law (V=3, L=4) and the two denoisers ("oracle", "random") the sampler tests share."""
    import refimpl

    rng = np.random.default_rng(2024)
    table = random_table(rng, 3, 4, concentration=0.4)
    oracle = refimpl.oracle_denoiser(table)
    other = random_denoiser(rng, 3, 4, sharpness=1.5)
    return table, {"oracle": oracle, "random": other}
