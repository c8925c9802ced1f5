"""Denoisers to test against: random ones, a perturbed oracle, and a fixed-weight MLP.

Each is a deterministic function of the partial sequence (the same z gives the same rows), valid (rows
sum to one, one-hot where z is clean) and has a short repr, so that a failing hypothesis example reads
well.  None needs hypothesis.
"""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.types import LawLike
from ..denoisers import oracle_denoiser
from ..laws import space
from ..models.mlp import MLP, MLPConfig, init_params


class RandomDenoiser:
    r"""Random softmax rows, one per (partial sequence, position): logits ``sharpness`` x N(0, 1) drawn
    from ``seed`` (an int, or a Generator whose stream is used); with
    ``oracle`` and ``mix`` in (0, 1], :math:`(1 - \text{mix})\,\mu^\ast + \text{mix} \cdot \text{random}`."""

    def __init__(self, vocab_size, length, seed=0, sharpness=1.0, oracle=None, mix=1.0):
        self.vocab_size, self.length = validate.space(vocab_size, length)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(validate.integer(seed, "seed", 0))
        self.seed = "a Generator" if isinstance(seed, np.random.Generator) else seed
        self.sharpness = validate.number(sharpness, "sharpness")
        if not (np.isfinite(self.sharpness) and self.sharpness >= 0):
            raise InvalidParameterError(f"sharpness must be a finite number >= 0, got {sharpness!r}")
        self.mix = validate.probability(mix, "mix")
        count = space.size(self.vocab_size, self.length, partial=True)
        check_memory(8 * count * self.length * self.vocab_size, "the random denoiser's table")
        logits = self.sharpness * rng.standard_normal((count, self.length, self.vocab_size))
        rows = np.exp(logits - logits.max(axis=-1, keepdims=True))
        self.rows = rows / rows.sum(axis=-1, keepdims=True)  # (N_partial, L, V)
        self.oracle = oracle

    def __call__(self, z):
        z = validate.tokens(z, self.vocab_size, self.length, partial=True, name="z", ndim=2)
        out = self.rows[space.encode(z, self.vocab_size, partial=True)]  # (B, L, V), a fresh array
        if self.oracle is not None:
            out = (1.0 - self.mix) * self.oracle(z) + self.mix * out
        clean = z != self.vocab_size
        out[clean] = np.eye(self.vocab_size)[z[clean]]
        return out

    def __repr__(self):
        if self.oracle is None:
            return f"RandomDenoiser(V={self.vocab_size}, L={self.length}, seed={self.seed}, sharpness={self.sharpness})"
        return f"perturbed_oracle(mix={self.mix}, seed={self.seed}, sharpness={self.sharpness})"


def random_denoiser(vocab_size: int, length: int, seed: "int | np.random.Generator" = 0,
                    sharpness: float = 1.0) -> RandomDenoiser:
    """A fixed, valid denoiser with random rows (far from any oracle): see :class:`RandomDenoiser`.

    Parameters
    ----------
    vocab_size, length : int
        V and L.
    seed : int or numpy.random.Generator
        The rows' seed.
    sharpness : float
        How peaked the rows are.

    Returns
    -------
    RandomDenoiser

    Examples
    --------
    >>> import numpy as np, refimpl.testing as rt
    >>> rows = rt.random_denoiser(3, 2, seed=1)(np.array([[3, 3]]))
    >>> rows.shape, bool(np.allclose(rows.sum(axis=-1), 1.0))
    ((1, 2, 3), True)
    """
    return RandomDenoiser(vocab_size, length, seed, sharpness)


def perturbed_oracle(p: LawLike, mix: float = 0.1, seed: int = 0, sharpness: float = 1.0) -> RandomDenoiser:
    r"""The oracle of ``p`` mixed with random rows: :math:`(1 - \text{mix})\,\mu^\ast + \text{mix} \cdot r`.
    Close to optimal for small ``mix``, and positive everywhere when ``mix`` > 0.

    Parameters
    ----------
    p : array_like or Law
        The data law.
    mix : float
        The weight of the random rows, in [0, 1].
    seed : int
        The random rows' seed.
    sharpness : float
        How peaked the random rows are.

    Returns
    -------
    RandomDenoiser

    Examples
    --------
    >>> import numpy as np, refimpl, refimpl.testing as rt
    >>> p = refimpl.datasets.coupled_pairs()
    >>> bool(refimpl.nelbo(rt.perturbed_oracle(p, mix=0.3), p) > refimpl.entropy(p))   # worse than the oracle
    True
    """
    table = validate.law_table(p)
    return RandomDenoiser(table.shape[0], table.ndim, seed, sharpness, oracle=oracle_denoiser(table), mix=mix)


class FixedMLP(MLP):
    """An untrained :class:`refimpl.models.mlp.MLP` with LeCun-normal weights from ``seed``."""

    def __init__(self, vocab_size, length, seed=0, hidden=(16,)):
        self.seed = validate.integer(seed, "seed", 0)
        config = MLPConfig(vocab_size, length, hidden=tuple(hidden))
        super().__init__(config, init_params(config, np.random.default_rng(self.seed)))

    def __repr__(self):
        return f"FixedMLP(V={self.vocab_size}, L={self.length}, seed={self.seed}, hidden={self.config.hidden})"


def fixed_mlp(vocab_size: int, length: int, seed: int = 0, hidden: tuple = (16,)) -> FixedMLP:
    """A fixed-weight MLP denoiser (a model's shape, not an oracle's): see :class:`FixedMLP`.

    Parameters
    ----------
    vocab_size, length : int
        V and L.
    seed : int
        The weights' seed.
    hidden : tuple of int
        Hidden widths.

    Returns
    -------
    FixedMLP

    Examples
    --------
    >>> import numpy as np, refimpl.testing as rt
    >>> rt.fixed_mlp(3, 2)(np.array([[3, 0]])).shape
    (1, 2, 3)
    """
    return FixedMLP(vocab_size, length, seed, hidden)
