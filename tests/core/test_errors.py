"""Every bad input of issue #2 point 6 gets a RefimplError of the right builtin kind and a clear message."""
import numpy as np
import pytest
import refimpl
from refimpl.laws import datasets, space


def good_law():
    return np.full((2, 2), 0.25)


@pytest.mark.parametrize("bad, needle", [
    (np.array([[0.5, 0.6], [-0.1, 0.0]]), "negative entry"),
    (np.array([[0.5, np.nan], [0.25, 0.25]]), "non-finite entry nan"),
    (np.array([[0.5, np.inf], [0.25, 0.25]]), "non-finite entry inf"),
    (np.array([[0.5, 0.25], [0.25, 0.25]]), "sums to 1.25"),
    (np.array([[0.25, 0.25], [0.25, 0.25 + 2e-9]]), "sums to"),
    (np.full((2, 3), 1 / 6), "shape (V,)*L"),
    (np.array(1.0), "scalar"),
    (np.ones((1, 1)), "V >= 2"),
])
def test_bad_law_tables(bad, needle):
    for call in (refimpl.entropy, refimpl.total_correlation, refimpl.Law,
                 lambda t: refimpl.kl(t, t), lambda t: refimpl.marginal(t, 0)):
        with pytest.raises(refimpl.InvalidLawError) as info:
            call(bad)
        assert isinstance(info.value, ValueError) and needle in str(info.value)


def test_sum_tolerance_is_1e_9():
    refimpl.entropy(np.array([0.5, 0.5 + 5e-10]))
    with pytest.raises(refimpl.InvalidLawError, match="tolerance 1e-09"):
        refimpl.entropy(np.array([0.5, 0.5 + 2e-9]))


@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.bool_, np.complex128])
def test_wrong_dtype(dtype):
    with pytest.raises(refimpl.InvalidTypeError) as info:
        refimpl.entropy(np.array([1, 0]).astype(dtype))
    assert isinstance(info.value, TypeError) and "float64" in str(info.value)


def test_clean_token_out_of_range():
    with pytest.raises(refimpl.InvalidSequenceError, match="token 3 .* outside 0..2"):
        datasets.empirical([[0, 1], [3, 0]], vocab_size=3)
    with pytest.raises(refimpl.InvalidSequenceError, match="token -1"):
        datasets.empirical([[0, -1]], vocab_size=3)
    with pytest.raises(refimpl.InvalidSequenceError, match="not allowed"):
        space.encode([[0, 2]], 2)  # the mask is not a clean token


def test_partial_token_out_of_range_and_wrong_length():
    with pytest.raises(refimpl.InvalidSequenceError, match="token 3 .* outside 0..2 \\(mask is 2\\)"):
        refimpl.conditional_marginals(good_law(), [3, 2])
    with pytest.raises(refimpl.InvalidSequenceError, match="length 2"):
        refimpl.conditional_law(good_law(), [2, 2, 2])
    with pytest.raises(refimpl.InvalidTypeError, match="integers"):
        refimpl.conditional_law(good_law(), [0.0, 2.0])


def test_conditioning_on_probability_zero():
    law = datasets.coupled_pairs()
    for call in (refimpl.conditional_law, refimpl.conditional_marginals, refimpl.total_correlation):
        with pytest.raises(refimpl.ZeroProbabilityError) as info:
            call(law, [1, 4])  # token B never stands at position 0
        assert isinstance(info.value, ValueError) and "probability zero" in str(info.value)


@pytest.mark.parametrize("vocab_size, length, needle", [(1, 3, "vocab_size must be at least 2"),
                                                        (2, 0, "length must be at least 1"),
                                                        (2.0, 3, "vocab_size must be an integer"),
                                                        (True, 3, "vocab_size must be an integer")])
def test_bad_sizes(vocab_size, length, needle):
    for call in (space.size, space.clean_sequences, datasets.parity):
        with pytest.raises(refimpl.InvalidParameterError, match=needle):
            call(vocab_size, length)


def test_bad_positions():
    with pytest.raises(refimpl.InvalidParameterError, match="outside 0..1"):
        refimpl.marginal(good_law(), [2])
    with pytest.raises(refimpl.InvalidParameterError, match="repeats"):
        refimpl.marginal(good_law(), [0, 0])
    with pytest.raises(refimpl.InvalidParameterError, match="must be masked"):
        refimpl.total_correlation(good_law(), [0, 2], positions=[0])


def test_memory_guard_refuses_before_allocating_and_says_how_to_raise():
    rng = np.random.default_rng(0)
    with refimpl.memory_limit(1000):
        with pytest.raises(refimpl.MemoryLimitError) as info:
            datasets.dirichlet(4, 5, rng)  # 4**5 * 8 = 8192 bytes
        message = str(info.value)
        assert "8192 bytes" in message and "memory_limit" in message and "REFIMPL_MEMORY_LIMIT" in message
        with pytest.raises(refimpl.MemoryLimitError):
            space.partial_sequences(3, 5)
        datasets.dirichlet(2, 3, rng)  # 64 bytes is fine
    datasets.dirichlet(4, 5, rng)  # the limit is scoped to the block
    assert refimpl.get_memory_limit() == 4 * 2**30


def test_memory_limit_from_environment(monkeypatch):
    monkeypatch.setenv("REFIMPL_MEMORY_LIMIT", "100")
    assert refimpl.get_memory_limit() == 100
    with pytest.raises(refimpl.MemoryLimitError):
        datasets.parity(2, 5)
    monkeypatch.setenv("REFIMPL_MEMORY_LIMIT", "lots")
    with pytest.raises(refimpl.InvalidParameterError, match="REFIMPL_MEMORY_LIMIT"):
        refimpl.get_memory_limit()


def test_default_limit_refuses_a_huge_table_without_allocating():
    with pytest.raises(refimpl.MemoryLimitError, match="GiB"):
        datasets.dirichlet(10, 12, np.random.default_rng(0))


def test_rng_must_be_a_generator():
    with pytest.raises(refimpl.InvalidTypeError, match="default_rng"):
        datasets.dirichlet(2, 2, 42)


def test_markov_and_product_inputs():
    with pytest.raises(refimpl.InvalidLawError, match="row 1 sums to"):
        datasets.markov_chain([0.5, 0.5], [[0.5, 0.5], [0.2, 0.2]], 3)
    with pytest.raises(refimpl.InvalidParameterError, match="shape"):
        datasets.markov_chain([0.5, 0.5], np.eye(3), 3)
    with pytest.raises(refimpl.InvalidLawError, match="non-negative"):
        datasets.product([[1.5, -0.5]])


def test_empirical_needs_data():
    with pytest.raises(refimpl.InvalidSequenceError, match="non-empty"):
        datasets.empirical(np.zeros((0, 3), dtype=int))


def test_errors_are_value_or_type_errors():
    for cls in (refimpl.InvalidLawError, refimpl.InvalidSequenceError, refimpl.InvalidParameterError,
                refimpl.ZeroProbabilityError, refimpl.MemoryLimitError, refimpl.InvalidDenoiserOutputError,
                refimpl.FileFormatError, refimpl.InvalidTypeError):
        assert issubclass(cls, refimpl.RefimplError)
        assert issubclass(cls, (ValueError, TypeError))
