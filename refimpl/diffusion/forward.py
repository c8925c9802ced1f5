r"""The absorbing forward process and the reverse step, exactly.

Forward: each position independently stays clean with probability :math:`\alpha_t`, else becomes the
mask V, which is absorbing.  Reverse from t to s < t at a masked position: stay masked with
probability :math:`(1-\alpha_s)/(1-\alpha_t)`, else become v with probability
:math:`\frac{\alpha_s - \alpha_t}{1 - \alpha_t} \mu(z)_{i,v}`; clean positions are carried over.
Per-position outputs have ``V+1`` columns, the last one being the mask.

Examples
--------
>>> import refimpl
>>> law_t = refimpl.forward.forward_law(refimpl.datasets.coupled_pairs(), alpha_t=0.5)   # a (V+1,)*L table
>>> float(law_t[0, 1]), float(law_t[4, 4]), round(float(law_t.sum()), 12)   # AB kept; both masked
(0.125, 0.25, 1.0)
"""
import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.numerics import sample_categorical
from ..core.types import ArrayLike, LawLike, Table
from ..laws.lattice import lattice_bytes, marginal_lattice


def _alphas(alpha_s=None, alpha_t=None, scalar=True, need_s=False):
    if alpha_t is None or (need_s and alpha_s is None):
        raise InvalidParameterError("alpha_t (and alpha_s for a step from t to s) must be given")
    out = []
    for name, value in (("alpha_s", alpha_s), ("alpha_t", alpha_t)):
        if value is not None:
            raw = validate.as_array(value, name)
            if raw.dtype.kind not in "fiu" or raw.dtype == np.bool_:
                raise InvalidParameterError(f"{name} must be a number in [0, 1], got {value!r}")
            arr = raw.astype(np.float64)
            if scalar and arr.ndim:
                raise InvalidParameterError(f"{name} must be a single number, got shape {arr.shape}")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
                raise InvalidParameterError(f"{name} must lie in [0, 1], got {value!r}")
            out.append(arr)
    if len(out) == 2 and np.any(out[0] < out[1]):
        raise InvalidParameterError("alpha_s must be >= alpha_t: s < t is earlier, hence cleaner")
    return out


def token_kernel(alpha_t: float, vocab_size: int) -> np.ndarray:
    r""":math:`q(x_t \mid x_0)` for one token, shape ``(V, V+1)``: row v is :math:`\alpha_t` at v, the rest at the mask."""
    (alpha,) = _alphas(alpha_t=alpha_t)
    vocab_size = validate.integer(vocab_size, "vocab_size", 2)
    kernel = np.zeros((vocab_size, vocab_size + 1))
    kernel[:, :vocab_size] = float(alpha) * np.eye(vocab_size)
    kernel[:, vocab_size] = 1.0 - float(alpha)
    return kernel


def sequence_probability(x0: ArrayLike, z: ArrayLike, alpha_t: float, vocab_size: int) -> np.ndarray:
    r""":math:`q(z \mid x_0) = \alpha_t^{\#clean} (1-\alpha_t)^{\#masked}` if z agrees with x0 where clean, else 0.

    ``x0`` (B, L) clean, ``z`` (B, L) partial; returns (B,).
    """
    (alpha,) = _alphas(alpha_t=alpha_t)
    x0 = validate.tokens(x0, vocab_size, partial=False, name="x0")
    z = validate.tokens(z, vocab_size, x0.shape[-1], partial=True, name="z")
    masked = z == vocab_size
    agrees = np.all(masked | (z == x0), axis=-1)
    n_masked = masked.sum(axis=-1)
    return np.where(agrees, alpha ** (x0.shape[-1] - n_masked) * (1.0 - alpha) ** n_masked, 0.0)


def forward_law(p: LawLike, alpha_t: float) -> Table:
    r"""The exact law of :math:`x_t` when :math:`x_0 \sim p`, as a table of shape ``(V+1,)*L``.

    .. math::  q_t(z) = \alpha_t^{L-k} (1-\alpha_t)^{k} \, p(x_C = z_C),  \quad k = \#\{i: z_i = V\}
    """
    (alpha,) = _alphas(alpha_t=alpha_t)
    table = validate.law_table(p)
    check_memory(3 * lattice_bytes(table.shape[0], table.ndim), "the law of x_t (lattice, mask counts, result)")
    lattice = marginal_lattice(table)
    vocab_size, length = lattice.shape[0] - 1, lattice.ndim
    n_masked = np.zeros(lattice.shape, dtype=np.int64)
    for axis in range(length):
        shape = [1] * length
        shape[axis] = vocab_size + 1
        n_masked = n_masked + (np.arange(vocab_size + 1) == vocab_size).reshape(shape)
    return lattice * (float(alpha) ** (length - n_masked) * (1.0 - float(alpha)) ** n_masked)


def sample_forward(x0: ArrayLike, alpha_t: float, rng: np.random.Generator, vocab_size: int) -> np.ndarray:
    r"""Draw :math:`x_t \sim q(\cdot \mid x_0)`: mask each position independently with prob :math:`1-\alpha_t`.

    ``x0`` (B, L); ``alpha_t`` a scalar or (B,) (one time per row).  Returns (B, L) partial sequences.
    """
    x0, masked = noised_positions(x0, alpha_t, rng, vocab_size)
    return np.where(masked, vocab_size, x0)


def noised_positions(x0: ArrayLike, alpha_t: float, rng: np.random.Generator, vocab_size: int) -> tuple:
    """(x0 checked (B, L), which positions the forward process touches (B, L) bool: each with probability
    1 - alpha_t, ``alpha_t`` a scalar or one per row) — the draw both forward processes share."""
    (alpha,) = _alphas(alpha_t=alpha_t, scalar=False)
    rng = validate.generator(rng)
    x0 = validate.tokens(x0, vocab_size, partial=False, name="x0", ndim=2)
    if alpha.shape not in ((), x0.shape[:1]):
        raise InvalidParameterError(f"alpha_t must be a number or one per row ({x0.shape[0]},), got shape {alpha.shape}")
    alpha = np.broadcast_to(alpha, x0.shape[:1])[:, None]  # (B, 1)
    return x0, rng.random(x0.shape) >= alpha


def posterior(z_t: ArrayLike, x0: ArrayLike, alpha_s: float, alpha_t: float, vocab_size: int) -> np.ndarray:
    r""":math:`q(x_s \mid x_t, x_0)` per position, shape (B, L, V+1).

    Clean at t: stays (one-hot).  Masked at t: mask with prob :math:`(1-\alpha_s)/(1-\alpha_t)`,
    :math:`x_0^i` with prob :math:`(\alpha_s-\alpha_t)/(1-\alpha_t)`.
    """
    alpha_s, alpha_t = _alphas(alpha_s, alpha_t, need_s=True)
    x0 = validate.tokens(x0, vocab_size, partial=False, name="x0", ndim=2)
    z_t = validate.tokens(z_t, vocab_size, x0.shape[1], partial=True, name="z_t", ndim=2)
    if np.any((z_t != vocab_size) & (z_t != x0)):
        raise InvalidParameterError("z_t disagrees with x0 at a clean position: q(x_t | x_0) = 0 there")
    if np.any(alpha_t == 1.0):
        raise InvalidParameterError("alpha_t = 1 leaves nothing masked; the posterior needs alpha_t < 1")
    eye = np.eye(vocab_size + 1)
    out = eye[z_t]  # (B, L, V+1): carry-over
    masked = z_t == vocab_size
    unmask_prob = float((alpha_s - alpha_t) / (1.0 - alpha_t))
    out[masked] = (1.0 - unmask_prob) * eye[vocab_size] + unmask_prob * eye[x0[masked]]
    return out


def reverse_kernel(z_t: ArrayLike, mu: ArrayLike, alpha_s: float, alpha_t: float, vocab_size: int) -> np.ndarray:
    r"""The model's reverse step :math:`p_\theta(x_s^i \mid x_t)` per position, shape (B, L, V+1).

    ``mu`` (B, L, V) is the denoiser output at ``z_t``; no mass goes from a masked position to the
    mask except by staying masked, and clean positions are carried over.
    """
    alpha_s, alpha_t = _alphas(alpha_s, alpha_t, need_s=True)
    z_t = validate.tokens(z_t, vocab_size, partial=True, name="z_t", ndim=2)
    mu = validate.as_array(mu, "mu")
    if mu.dtype.kind not in "fiu" or mu.shape != z_t.shape + (vocab_size,):
        raise InvalidParameterError(f"mu must be numbers of shape {z_t.shape + (vocab_size,)}, got {mu.dtype} {mu.shape}")
    mu = mu.astype(np.float64)
    if np.any(alpha_t == 1.0):
        raise InvalidParameterError("alpha_t = 1 leaves nothing masked; a reverse step needs alpha_t < 1")
    unmask_prob = float((alpha_s - alpha_t) / (1.0 - alpha_t))
    out = np.eye(vocab_size + 1)[z_t]  # (B, L, V+1)
    masked = z_t == vocab_size
    out[masked, :vocab_size] = unmask_prob * mu[masked]
    out[masked, vocab_size] = 1.0 - unmask_prob
    return out


def sample_reverse_step(z_t: ArrayLike, mu: ArrayLike, alpha_s: float, alpha_t: float, rng: np.random.Generator,
                        vocab_size: int) -> np.ndarray:
    """Draw :math:`x_s` from :func:`reverse_kernel` (independently per position). Returns (B, L)."""
    rng = validate.generator(rng)
    return sample_categorical(reverse_kernel(z_t, mu, alpha_s, alpha_t, vocab_size), rng)


def any_order_mask(batch: int, length: int, rng: np.random.Generator) -> np.ndarray:
    r"""The any-order (autoregressive) masking: :math:`k \sim U\{1..L\}` per row, then a uniform k-subset
    masked.  Returns ``(masked (B, L) bool, k (B,))``; the NELBO weight of a row is L / k."""
    k = rng.integers(1, length + 1, size=batch)
    ranks = np.argsort(np.argsort(rng.random((batch, length)), axis=1), axis=1)
    return ranks < k[:, None], k
