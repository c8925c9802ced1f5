import numpy as np
import pytest
import refimpl
from hypothesis import given
from refimpl import denoisers
from refimpl.laws import datasets, space
from refimpl.testing.strategies import laws


@given(laws(max_states=256))
def test_oracle_equals_direct_conditional_marginals_everywhere(table):
    """Checks proofs/optimal_denoiser.md."""
    vocab_size, length = table.shape[0], table.ndim
    oracle = denoisers.oracle_denoiser(table)
    z = space.partial_sequences(vocab_size, length)
    mu = denoisers.evaluate(oracle, z, vocab_size)
    for k in range(len(z)):
        try:
            direct = refimpl.conditional_marginals(table, z[k])
        except refimpl.ZeroProbabilityError:
            # documented convention: uniform at masked positions, one-hot at clean ones
            direct = np.where((z[k] == vocab_size)[:, None], 1.0 / vocab_size, np.eye(vocab_size)[z[k] % vocab_size])
        np.testing.assert_allclose(mu[k], direct, atol=1e-13)


def test_zero_probability_convention_counts_states():
    law = datasets.coupled_pairs()
    oracle = denoisers.oracle_denoiser(law)
    np.testing.assert_allclose(oracle(np.array([[1, 4]]))[0], [[0, 1, 0, 0], [0.25] * 4])
    assert oracle.zero_probability_states == int(np.sum([
        1 for z in space.partial_sequences(4, 2)
        if law.table[tuple(slice(None) if t == 4 else t for t in z)].sum() == 0]))


def _z():
    return np.array([[0, 2], [2, 2]])


@pytest.mark.parametrize("mutate, needle", [
    (lambda out: out.__setitem__((1, 0, 0), -0.5) or out.__setitem__((1, 0, 1), 1.5), "negative probability"),
    (lambda out: out.__setitem__((1, 1, 0), np.nan), "non-finite"),
    (lambda out: out.__setitem__((1, 1), [0.3, 0.3]), "sums to 0.6"),
    (lambda out: out.__setitem__((0, 0), [0.5, 0.5]), "not one-hot at clean token 0"),
])
def test_invalid_denoiser_outputs_name_the_row(mutate, needle):
    def den(z):
        out = np.full(z.shape + (2,), 0.5)
        out[0, 0] = [1.0, 0.0]
        mutate(out)
        return out

    with pytest.raises(refimpl.InvalidDenoiserOutputError) as info:
        denoisers.evaluate(den, _z(), 2)
    assert needle in str(info.value) and "batch" in str(info.value) and "position" in str(info.value)


def test_wrong_shape_and_type():
    with pytest.raises(refimpl.InvalidDenoiserOutputError, match="no mask column"):
        denoisers.evaluate(lambda z: np.full(z.shape + (3,), 1 / 3), _z(), 2)
    with pytest.raises(refimpl.InvalidDenoiserOutputError, match="floating"):
        denoisers.evaluate(lambda z: np.ones(z.shape + (2,), dtype=int), _z(), 2)
    with pytest.raises(refimpl.InvalidTypeError, match="callable"):
        denoisers.evaluate("oracle", _z(), 2)


@pytest.mark.parametrize("einsum_rows", [0, 4, 10**9])  # rows normalised by multiply, both, einsum
@pytest.mark.parametrize("block_elements", [1, 9, 30, 200])
def test_blocked_and_threaded_construction_matches_direct_computation(monkeypatch, block_elements, einsum_rows):
    """The lattice and the oracle tables are built in blocks on a thread pool for large laws, short rows
    normalised by einsum; force every path on a small law (with zeros) and compare with direct sums and
    conditional_marginals."""
    import itertools

    from refimpl.core import numerics
    from refimpl.denoisers import oracle
    from refimpl.laws import lattice

    from tests.helpers import random_table

    monkeypatch.setattr(lattice, "BLOCK_ELEMENTS", block_elements)
    monkeypatch.setattr(oracle, "EINSUM_ROWS", einsum_rows)
    monkeypatch.setattr(numerics, "PARALLEL_MIN_ELEMENTS", 0)
    table = random_table(np.random.default_rng(block_elements), 3, 4, concentration=0.3, zero_fraction=0.5)
    assert lattice.block_axes(3, 4) == {1: 3, 9: 3, 30: 2, 200: 1}[block_elements]
    grid = lattice.marginal_lattice(table)
    for z in itertools.product(range(4), repeat=4):
        assert grid[z] == pytest.approx(table[tuple(slice(None) if t == 3 else t for t in z)].sum(), abs=1e-15)
    oracle = denoisers.oracle_denoiser(table)
    z = space.partial_sequences(3, 4)
    mu = oracle(z)
    for k in range(len(z)):
        try:
            np.testing.assert_allclose(mu[k], refimpl.conditional_marginals(table, z[k]), rtol=0, atol=1e-13)
        except refimpl.ZeroProbabilityError:
            masked = z[k] == 3
            np.testing.assert_allclose(mu[k][masked], 1 / 3)


def test_tabulated_denoiser_answers_like_the_original_and_gives_the_same_exact_laws():
    from refimpl import samplers

    from tests.helpers import random_denoiser

    original = random_denoiser(np.random.default_rng(4), 3, 4, sharpness=2.0)
    table = denoisers.tabulate(original, 3, 4)
    z = space.partial_sequences(3, 4)
    np.testing.assert_array_equal(table(z), original(z))
    for sampler in (samplers.LLaDA(4, temperature=1.0), samplers.Ancestral(steps=3),
                    samplers.Threshold(0.5, temperature=1.0)):
        np.testing.assert_allclose(refimpl.exact_law(table, sampler, 4, 3), refimpl.exact_law(original, sampler, 4, 3),
                                   atol=1e-15)
    with pytest.raises(refimpl.InvalidDenoiserOutputError):
        denoisers.tabulate(lambda z: np.full(z.shape + (3,), 0.5), 3, 4)


def test_lattice_oracle_equals_the_tabulated_oracle_everywhere_and_in_the_engine():
    from refimpl import samplers

    from tests.helpers import random_table

    table = random_table(np.random.default_rng(9), 3, 4, concentration=0.3, zero_fraction=0.5)
    tabulated = denoisers.oracle_denoiser(table, precompute=True)
    lazy = denoisers.oracle_denoiser(table, precompute=False)
    assert isinstance(lazy, denoisers.LatticeOracle) and isinstance(tabulated, denoisers.OracleDenoiser)
    z = space.partial_sequences(3, 4)
    np.testing.assert_allclose(lazy(z), tabulated(z), atol=1e-15)
    for sampler in (samplers.Ancestral(steps=3), samplers.LLaDA(4, temperature=1.0),
                    samplers.SemiAR(2, samplers.RandomK(2))):
        np.testing.assert_allclose(refimpl.exact_law(lazy, sampler, 4, 3), refimpl.exact_law(tabulated, sampler, 4, 3),
                                   atol=1e-15)
    with refimpl.memory_limit(5_000):  # lattice 2048 bytes fits, lattice + tables 8192 not: the lattice oracle
        assert isinstance(denoisers.oracle_denoiser(table), denoisers.LatticeOracle)
