import numpy as np
import pytest
import refimpl
from hypothesis import given
from hypothesis import strategies as st
from refimpl.laws import space
from refimpl.testing.strategies import spaces


def test_order_is_c_order_position_zero_slowest():
    seqs = space.clean_sequences(3, 2)
    assert seqs.tolist() == [[a, b] for a in range(3) for b in range(3)]
    rng = np.random.default_rng(0)
    table = rng.random((3,) * 4)
    for index, x in enumerate(space.clean_sequences(3, 4)):
        assert table.ravel()[index] == table[tuple(x)]


def test_partial_sequences_use_mask_id_v():
    seqs = space.partial_sequences(2, 3)
    assert seqs.shape == (27, 3)
    assert seqs.max() == 2 and seqs[-1].tolist() == [2, 2, 2]
    assert space.size(2, 3, partial=True) == 27 and space.size(2, 3) == 8


@given(spaces(max_vocab=5, max_length=5, max_states=4000), st.booleans(), st.data())
def test_encode_decode_round_trip(vl, partial, data):
    vocab_size, length = vl
    count = space.size(vocab_size, length, partial=partial)
    idx = np.array(data.draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=20)))
    seqs = space.decode(idx, vocab_size, length, partial=partial)
    assert seqs.shape == idx.shape + (length,)
    np.testing.assert_array_equal(space.encode(seqs, vocab_size, partial=partial), idx)
    full = space.enumerate_sequences(vocab_size, length, partial=partial)
    np.testing.assert_array_equal(full[idx], seqs)
    np.testing.assert_array_equal(space.encode(full, vocab_size, partial=partial), np.arange(count))


def test_decode_and_encode_refuse_out_of_range():
    with pytest.raises(refimpl.InvalidSequenceError, match="outside 0..7"):
        space.decode(8, 2, 3)
    with pytest.raises(refimpl.InvalidSequenceError, match="token 2"):
        space.encode([0, 2, 1], 2)
    with pytest.raises(refimpl.InvalidTypeError, match="integers"):
        space.encode([0.0, 1.0], 2)
