r"""The uniform ("uniform-state") forward process and its posterior, exactly (issue #38, build 1).

Forward: each position independently keeps its token with probability :math:`\alpha_t`, else takes a token drawn
uniformly from the V tokens (possibly the same one), so

.. math::  q(x_t^i = v \mid x_0^i) = \alpha_t [v = x_0^i] + (1 - \alpha_t) / V,

a law on clean sequences: there is no mask.  The process is Markov with :math:`\alpha_{t|s} = \alpha_t / \alpha_s`
from s to t > s, and the posterior of an earlier time (UDLM, Schiff et al. 2024; Duo, Sahoo et al. 2025) is per
position

.. math::  q(x_s^i = v \mid x_t, x_0) \propto \big(\alpha_{t|s}[z_t^i = v] + \tfrac{1 - \alpha_{t|s}}{V}\big)
           \big(\alpha_s [v = x_0^i] + \tfrac{1 - \alpha_s}{V}\big).

Every function takes :math:`\alpha` values, so every schedule of :mod:`refimpl.diffusion.schedules` applies
(``schedule.alpha(t)``).  Per-position outputs have V columns.

Examples
--------
>>> import refimpl
>>> from refimpl.diffusion import uniform
>>> law_t = uniform.forward_law(refimpl.datasets.coupled_pairs(), alpha_t=0.5)   # a (V,)*L table: no mask
>>> float(law_t[0, 1]), float(law_t[0, 3]), round(float(law_t.sum()), 12)   # AB; AD, which p never writes
(0.203125, 0.078125, 1.0)
"""
import numpy as np

from ..core import validate
from ..core.memory import check_memory
from ..core.numerics import sample_categorical
from ..core.types import ArrayLike, LawLike, Table
from .forward import _alphas, noised_positions


def token_kernel(alpha_t: float, vocab_size: int) -> np.ndarray:
    r""":math:`q(x_t \mid x_0)` for one token, shape ``(V, V)``: :math:`\alpha_t I + (1 - \alpha_t)/V`.

    Examples
    --------
    >>> from refimpl.diffusion import uniform
    >>> uniform.token_kernel(0.5, 2).tolist()
    [[0.75, 0.25], [0.25, 0.75]]
    """
    (alpha,) = _alphas(alpha_t=alpha_t)
    vocab_size = validate.integer(vocab_size, "vocab_size", 2)
    return float(alpha) * np.eye(vocab_size) + (1.0 - float(alpha)) / vocab_size


def sequence_probability(x0: ArrayLike, z: ArrayLike, alpha_t: float, vocab_size: int) -> np.ndarray:
    r""":math:`q(z \mid x_0) = \prod_i (\alpha_t [z_i = x_0^i] + (1 - \alpha_t)/V)` for clean ``x0`` and ``z``
    (B, L); returns (B,).

    Examples
    --------
    >>> from refimpl.diffusion import uniform
    >>> uniform.sequence_probability([[0, 1]], [[0, 0]], 0.5, 2).tolist()   # 0.75 * 0.25
    [0.1875]
    """
    (alpha,) = _alphas(alpha_t=alpha_t)
    x0 = validate.tokens(x0, vocab_size, partial=False, name="x0")
    z = validate.tokens(z, vocab_size, x0.shape[-1], partial=False, name="z")
    same = z == x0
    return np.prod(np.where(same, float(alpha), 0.0) + (1.0 - float(alpha)) / vocab_size, axis=-1)


def forward_law(p: LawLike, alpha_t: float) -> Table:
    r"""The exact law of :math:`x_t` when :math:`x_0 \sim p`, a table of the shape of p: the token kernel applied
    along every axis, :math:`q_t = p \times_1 K \cdots \times_L K`."""
    (alpha,) = _alphas(alpha_t=alpha_t)
    table = validate.law_table(p)
    check_memory(3 * table.nbytes, "the uniform forward law (the table, twice, and a copy)")
    kernel = token_kernel(float(alpha), table.shape[0])
    out = table
    for axis in range(table.ndim):
        out = np.moveaxis(np.tensordot(out, kernel, axes=([axis], [0])), -1, axis)
    return out


def sample_forward(x0: ArrayLike, alpha_t: float, rng: np.random.Generator, vocab_size: int) -> np.ndarray:
    r"""Draw :math:`x_t \sim q(\cdot \mid x_0)`: each position keeps its token with probability :math:`\alpha_t`,
    else takes a uniform token.  ``x0`` (B, L); ``alpha_t`` a scalar or (B,) (one time per row).  Returns (B, L).

    Examples
    --------
    >>> import numpy as np
    >>> from refimpl.diffusion import uniform
    >>> uniform.sample_forward([[0, 1, 2]], 1.0, np.random.default_rng(0), 3).tolist()   # alpha 1: nothing changes
    [[0, 1, 2]]
    """
    rng = validate.generator(rng)
    x0, redraw = noised_positions(x0, alpha_t, rng, vocab_size)
    return np.where(redraw, rng.integers(0, vocab_size, size=x0.shape), x0)


def step_alpha(alpha_s: float, alpha_t: float) -> float:
    r""":math:`\alpha_{t|s} = \alpha_t / \alpha_s`, the keep probability from s to t (1 where the two are equal, 0
    included: nothing happens between equal times)."""
    alpha_s, alpha_t = (float(a) for a in _alphas(alpha_s, alpha_t, need_s=True))
    return 1.0 if alpha_s == alpha_t else alpha_t / alpha_s


def posterior(z_t: ArrayLike, x0: ArrayLike, alpha_s: float, alpha_t: float, vocab_size: int) -> np.ndarray:
    r""":math:`q(x_s \mid x_t, x_0)` per position, shape (B, L, V), for clean ``z_t`` and ``x0`` (B, L) and
    :math:`\alpha_s \ge \alpha_t` (the module's formula).

    Examples
    --------
    >>> from refimpl.diffusion import uniform
    >>> uniform.posterior([[1]], [[0]], 1.0, 0.5, 2)[0, 0].tolist()   # alpha_s = 1: x_s is x_0
    [1.0, 0.0]
    """
    ratio = step_alpha(alpha_s, alpha_t)
    alpha_s = float(_alphas(alpha_s, alpha_t, need_s=True)[0])
    x0 = validate.tokens(x0, vocab_size, partial=False, name="x0", ndim=2)
    z_t = validate.tokens(z_t, vocab_size, x0.shape[1], partial=False, name="z_t", ndim=2)
    eye = np.eye(vocab_size)
    to_t = ratio * eye[z_t] + (1.0 - ratio) / vocab_size  # q(x_t | x_s = v), (B, L, V)
    from_0 = alpha_s * eye[x0] + (1.0 - alpha_s) / vocab_size  # q(x_s = v | x_0)
    joint = to_t * from_0
    return joint / joint.sum(axis=-1, keepdims=True)


def sample_posterior(z_t: ArrayLike, x0: ArrayLike, alpha_s: float, alpha_t: float, rng: np.random.Generator,
                     vocab_size: int) -> np.ndarray:
    """Draw :math:`x_s` from :func:`posterior` (independently per position).  Returns (B, L)."""
    rng = validate.generator(rng)
    return sample_categorical(posterior(z_t, x0, alpha_s, alpha_t, vocab_size), rng)
