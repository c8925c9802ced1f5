r"""Hypothesis strategies for refimpl's objects: spaces, data laws of several kinds, partial sequences and
schedules, samplers and denoisers (the last three in :mod:`refimpl.testing.families`, re-exported here).

Laws are float64 tables of shape ``(V,)*L``.  Every strategy shrinks towards the small and plain: two
tokens, short sequences, a Dirichlet law of concentration 1, the linear schedule, nothing masked, so a
failing property reports a case a person can read.  Sizes stay within ``max_states`` clean sequences
(:math:`V^L`), which bounds the memory of every exact computation on the law.
"""
import numpy as np
from hypothesis import strategies as st

from ..core import validate
from ..core.errors import InvalidParameterError
from ..laws import datasets

KINDS = ("dirichlet", "sparse", "markov", "product", "coupled")
MAX_STATES = 256  # default bound on V**L


def _check_bounds(min_vocab, max_vocab, min_length, max_length, max_states):
    min_vocab, max_vocab = validate.integer(min_vocab, "min_vocab", 1), validate.integer(max_vocab, "max_vocab", 1)
    min_length, max_length = validate.integer(min_length, "min_length", 0), validate.integer(max_length, "max_length", 0)
    max_states = validate.integer(max_states, "max_states", 1)
    if not (2 <= min_vocab <= max_vocab) or not (1 <= min_length <= max_length):
        raise InvalidParameterError(f"need 2 <= min_vocab <= max_vocab and 1 <= min_length <= max_length, got "
                                    f"vocab {min_vocab}..{max_vocab}, length {min_length}..{max_length}")
    if min_vocab**min_length > max_states:
        raise InvalidParameterError(f"no space fits: {min_vocab}**{min_length} sequences exceed max_states={max_states}")


def spaces(max_vocab=4, max_length=4, min_length=1, max_states=MAX_STATES, min_vocab=2):
    """``(V, L)`` with :math:`V^L \\le` ``max_states``; shrinks to (min_vocab, min_length)."""
    _check_bounds(min_vocab, max_vocab, min_length, max_length, max_states)
    return _spaces(max_vocab, max_length, min_length, max_states, min_vocab)


@st.composite
def _spaces(draw, max_vocab, max_length, min_length, max_states, min_vocab):
    top = max(v for v in range(min_vocab, max_vocab + 1) if v**min_length <= max_states)
    vocab_size = draw(st.integers(min_vocab, top))
    lengths = [n for n in range(min_length, max_length + 1) if vocab_size**n <= max_states]
    return vocab_size, draw(st.sampled_from(lengths))


def dirichlet_rows(rng, vocab_size, concentration, rows=None):
    """Dirichlet(concentration) probability rows ``(rows, V)`` (or one row); a row whose gamma draws all
    underflow (tiny concentration) is a point mass on a random token."""
    out = np.atleast_2d(np.nan_to_num(rng.dirichlet(np.full(vocab_size, float(concentration)), size=rows or 1)))
    for row in out:
        if row.sum() == 0:
            row[rng.integers(vocab_size)] = 1.0
    out /= out.sum(axis=1, keepdims=True)
    return out if rows else out[0]


def dirichlet_table(rng, vocab_size, length, concentration=1.0, zero_fraction=0.0):
    """A Dirichlet(concentration) law over all sequences, a random ``zero_fraction`` of them then set to
    probability zero (the most probable sequence is kept)."""
    table = np.nan_to_num(rng.dirichlet(np.full(vocab_size**length, float(concentration))))
    if table.sum() == 0:  # every gamma draw underflowed (tiny concentration): a point mass
        table[rng.integers(table.size)] = 1.0
    if zero_fraction:
        keep = rng.random(table.size) >= zero_fraction
        keep[np.argmax(table)] = True
        table = np.where(keep, table, 0.0)
    return (table / table.sum()).reshape((vocab_size,) * length)


def coupled_table(rng, vocab_size, length, pairs=2):
    """Neighbouring positions coupled in pairs, (0, 1), (2, 3), ...: each pair takes one of ``pairs``
    random token pairs (random weights), pairs independent of each other; an odd last position is uniform.
    The paper's "AB always together" law is the case L = 2."""
    table = np.ones(())
    for start in range(0, length - 1, 2):
        joint = np.zeros((vocab_size, vocab_size))
        cells = rng.choice(vocab_size * vocab_size, size=min(pairs, vocab_size * vocab_size), replace=False)
        joint.ravel()[cells] = rng.dirichlet(np.ones(len(cells)))
        table = np.multiply.outer(table, joint)
    if length % 2:
        table = np.multiply.outer(table, np.full(vocab_size, 1.0 / vocab_size))
    return table / table.sum()


def law_table(kind, seed, vocab_size, length, concentration=1.0, zero_fraction=0.5):
    """The law of ``kind`` (one of :data:`KINDS`) from ``seed``; what :func:`laws` draws."""
    rng = np.random.default_rng(seed)
    if kind == "dirichlet":
        return dirichlet_table(rng, vocab_size, length, concentration)
    if kind == "sparse":
        return dirichlet_table(rng, vocab_size, length, concentration, zero_fraction)
    if kind == "markov":
        initial = dirichlet_rows(rng, vocab_size, concentration)
        transition = dirichlet_rows(rng, vocab_size, concentration, vocab_size)
        return datasets.markov_chain(initial, transition, length).table
    if kind == "product":
        return datasets.product(dirichlet_rows(rng, vocab_size, concentration, length)).table
    if kind == "coupled":
        return coupled_table(rng, vocab_size, length)
    raise InvalidParameterError(f"law kind must be one of {KINDS}, got {kind!r}")


def laws(max_vocab=4, max_length=4, min_length=1, max_states=MAX_STATES, kinds=KINDS, zeros=True,
         min_vocab=2, concentrations=None):
    """A data law (float64 table ``(V,)*L``) of one of ``kinds``: Dirichlet of any concentration, sparse
    (a Dirichlet with zero-probability sequences; only when ``zeros``), a Markov chain, a product law, or
    coupled pairs.  ``concentrations`` (a strategy of floats > 0) defaults to 0.01 .. 100, log-uniformly
    spread, shrinking to 1."""
    kinds = names(kinds, "kinds", KINDS)
    if not zeros:
        kinds = tuple(k for k in kinds if k != "sparse") or ("dirichlet",)
    _check_bounds(min_vocab, max_vocab, min_length, max_length, max_states)
    if concentrations is not None and not isinstance(concentrations, st.SearchStrategy):
        raise InvalidParameterError(f"concentrations must be a hypothesis strategy of floats > 0, got {concentrations!r}")
    if concentrations is None:
        concentrations = st.one_of(st.just(1.0), st.floats(-2.0, 2.0).map(lambda e: float(10.0**e)))
    return _laws(max_vocab, max_length, min_length, max_states, kinds, min_vocab, concentrations)


@st.composite
def _laws(draw, max_vocab, max_length, min_length, max_states, kinds, min_vocab, concentrations):
    vocab_size, length = draw(spaces(max_vocab, max_length, min_length, max_states, min_vocab))
    kind = draw(st.sampled_from(kinds))
    concentration = draw(concentrations)
    if not (np.isfinite(concentration) and concentration > 0):
        raise InvalidParameterError(f"concentrations must give floats > 0, got {concentration!r}")
    zero_fraction = draw(st.sampled_from((0.5, 0.2, 0.8)))
    return law_table(kind, draw(st.integers(0, 2**32 - 1)), vocab_size, length, concentration, zero_fraction)


def partial_sequences(table=None, vocab_size=None, length=None, positive=True):
    """A partial sequence (L,) int64 with mask token V.  Given a law ``table`` (V and L from it), with
    ``positive`` its clean tokens have positive probability under the law; without a table, V and L
    must be given.  Shrinks to nothing masked and token 0."""
    if table is not None:
        table = validate.law_table(table)
        vocab_size, length = table.shape[0], table.ndim
    elif vocab_size is None or length is None:
        raise InvalidParameterError("partial_sequences needs a law table, or vocab_size and length")
    else:
        vocab_size, length = validate.space(vocab_size, length)
    return _partial_sequences(table, vocab_size, length, positive)


@st.composite
def _partial_sequences(draw, table, vocab_size, length, positive):
    masked = np.array(draw(st.lists(st.booleans(), min_size=length, max_size=length)), dtype=bool)
    if table is not None and positive:
        support = np.argwhere(table > 0)
        x = support[draw(st.integers(0, len(support) - 1))]
    else:
        x = np.array(draw(st.lists(st.integers(0, vocab_size - 1), min_size=length, max_size=length)), dtype=np.int64)
    return np.where(masked, vocab_size, x).astype(np.int64)


@st.composite
def laws_with_partial(draw, positive=True, **kwargs):
    """``(law table, partial sequence)``; with ``positive`` the partial's clean part has positive probability."""
    table = draw(laws(**kwargs))
    return table, draw(partial_sequences(table, positive=positive))


from .families import FAMILIES, denoisers, names, samplers, schedules  # noqa: E402
from .uniform import uniform_model_kinds, uniform_samplers  # noqa: E402

__all__ = ["FAMILIES", "KINDS", "coupled_table", "denoisers", "dirichlet_rows", "dirichlet_table", "law_table",
           "laws", "laws_with_partial", "partial_sequences", "samplers", "schedules", "spaces", "uniform_model_kinds",
           "uniform_samplers"]
