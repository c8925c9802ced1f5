r"""A tiny MLP denoiser in NumPy with hand-written backprop (float64, no autograd).

Input: the one-hot of the partial sequence, ``L * (V+1)`` features.  Hidden layers of chosen widths
and activation (tanh, ReLU, GELU).  Output: ``L * V`` logits, a log-softmax per position.  As a
denoiser (docs/DESIGN.md, the denoiser protocol) it carries clean positions over (one-hot rows), so a trained
:class:`MLP` goes wherever a denoiser does.

Every layer is a forward/backward pair: ``forward(...) -> (out, cache)``, ``backward(d_out, cache)``
returns the gradients, named after the math (``dX``, ``dW``, ``db``).

Examples
--------
>>> import numpy as np, refimpl
>>> config = refimpl.mlp.MLPConfig(vocab_size=3, length=2, hidden=(8,), activation="gelu")
>>> model = refimpl.mlp.MLP(config, refimpl.mlp.init_params(config, np.random.default_rng(0)))
>>> probs = model(np.array([[3, 1]]))                 # (B, L, V): a denoiser; clean positions one-hot
>>> probs.shape, probs[0, 1].tolist()
((1, 2, 3), [0.0, 1.0, 0.0])
"""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.numerics import FRESH, INV_SQRT_2PI, normal_cdf

ACTIVATIONS = ("tanh", "relu", "gelu")


# --- layers -------------------------------------------------------------------------------------
# Each function takes an optional workspace (refimpl.core.numerics.Workspace): given one, results go into
# its named arrays (the training loop: no allocation per step); without one, into fresh arrays.  The
# arithmetic is the same either way.


def linear_forward(X, W, b, ws=FRESH, name="Z"):
    r""":math:`Z = X W + b`; X (B, D_in), W (D_in, D_out), b (D_out,)."""
    Z = np.matmul(X, W, out=ws.array(name, (X.shape[0], W.shape[1]), np.result_type(X, W, b)))
    Z += b
    return Z, (X, W)


def linear_backward(dZ, cache, need_dX=True, ws=FRESH, name=""):
    r""":math:`dX = dZ W^T`, :math:`dW = X^T dZ`, :math:`db = \sum_B dZ` (``dX`` is None when not needed)."""
    X, W = cache
    dX = np.matmul(dZ, W.T, out=ws.array("dX" + name, X.shape, dZ.dtype)) if need_dX else None
    dW = np.matmul(X.T, dZ, out=ws.array("dW" + name, W.shape, dZ.dtype))
    db = np.sum(dZ, axis=0, out=ws.array("db" + name, W.shape[1:], dZ.dtype))
    return dX, dW, db


def activation_forward(Z, kind, ws=FRESH, name="A"):
    r"""tanh; ReLU :math:`\max(0, z)`; GELU :math:`z \Phi(z)` (exact, :math:`\Phi` the normal CDF, as torch's default)."""
    validate.choice(kind, ACTIVATIONS, "activation")
    A = ws.array(name, Z.shape, Z.dtype)
    if kind == "tanh":
        return np.tanh(Z, out=A), (kind, A)
    if kind == "relu":
        return np.maximum(Z, 0.0, out=A), (kind, Z > 0)
    cdf = normal_cdf(Z, out=ws.array("cdf" + name, Z.shape, Z.dtype), ws=ws, name="square" + name)
    return np.multiply(Z, cdf, out=A), (kind, Z, cdf)


def activation_backward(dA, cache, ws=FRESH, name="dZ"):
    r"""tanh: :math:`1 - A^2`; ReLU: :math:`[Z > 0]`; GELU: :math:`\Phi(z) + z \varphi(z)`."""
    kind = cache[0]
    dZ = ws.array(name, dA.shape, dA.dtype)
    if kind == "tanh":
        A = cache[1]
        np.multiply(A, A, out=dZ)
        np.subtract(1.0, dZ, out=dZ)
        return np.multiply(dA, dZ, out=dZ)
    if kind == "relu":
        return np.multiply(dA, cache[1], out=dZ)
    _, Z, cdf = cache
    np.multiply(Z, Z, out=dZ)
    dZ *= -0.5
    np.exp(dZ, out=dZ)  # the normal density, times sqrt(2 pi)
    dZ *= INV_SQRT_2PI
    dZ *= Z
    dZ += cdf
    dZ *= dA
    return dZ


def log_softmax_forward(logits, ws=FRESH, name="logp"):
    r"""Per-position :math:`\log \mathrm{softmax}` over the last axis: :math:`(x - m) - \log \sum e^{x - m}`,
    m the row max."""
    top = reduce_last_axis(np.maximum, logits, ws.array("max" + name, logits.shape[:-1], logits.dtype))
    top[~np.isfinite(top)] = 0.0
    logp = np.subtract(logits, top[..., None], out=ws.array(name, logits.shape, logits.dtype))
    exp = np.exp(logp, out=ws.array("exp" + name, logits.shape, logits.dtype))
    total = reduce_last_axis(np.add, exp, ws.array("sum" + name, logits.shape[:-1], logits.dtype))
    logp -= np.log(total, out=total)[..., None]
    return logp, logp


def log_softmax_backward(dlogp, cache, ws=FRESH, name="dlogits"):
    r""":math:`d\ell_v = d\log p_v - p_v \sum_u d\log p_u`."""
    logp = cache
    out = np.exp(logp, out=ws.array(name, logp.shape, logp.dtype))
    out *= reduce_last_axis(np.add, dlogp, ws.array("sum" + name, logp.shape[:-1], logp.dtype))[..., None]
    return np.subtract(dlogp, out, out=out)


def reduce_last_axis(ufunc, x, out):
    """``ufunc.reduce(x, axis=-1)`` into ``out``, left to right one column at a time: over a short last
    axis (V tokens) that is several times faster than NumPy's reduce (docs/PERFORMANCE.md)."""
    np.copyto(out, x[..., 0])
    for j in range(1, x.shape[-1]):
        ufunc(out, x[..., j], out=out)
    return out


def weighted_masked_nll(logp, loss_mask, x0, weights, ws=FRESH):
    r"""Training loss and its gradient.

    .. math::  \mathcal L = \frac1B \sum_b w_b \sum_{i \in M_b} -\log p_{b,i,x_0^{bi}}

    (sum over the positions in ``loss_mask`` — the masked ones — weighted per row, mean over the
    batch).  Returns ``(loss, dlogp)``.
    """
    batch, length, vocab_size = logp.shape
    target = np.arange(batch * length) * vocab_size + x0.reshape(-1)  # flat index of x0 in each row of logp
    picked = np.ascontiguousarray(logp).reshape(-1)[target].reshape(batch, length)  # (B, L)
    per_row = -(picked * loss_mask).sum(axis=1)  # (B,)
    loss = float(np.dot(weights, per_row) / batch)
    dlogp = ws.array("dlogp", logp.shape, logp.dtype)
    dlogp.fill(0.0)
    dlogp.reshape(-1)[target] = (-(weights[:, None] * loss_mask) / batch).reshape(-1)
    return loss, dlogp


# --- the model ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MLPConfig:
    vocab_size: int
    length: int
    hidden: tuple = (128, 128)
    activation: str = "gelu"

    def __post_init__(self):
        validate.space(self.vocab_size, self.length)
        try:
            hidden = tuple(validate.integer(h, "hidden width", 1) for h in self.hidden)
        except TypeError:
            raise InvalidParameterError(f"hidden must be a list of layer widths, got {self.hidden!r}") from None
        object.__setattr__(self, "hidden", hidden)
        validate.choice(self.activation, ACTIVATIONS, "activation")

    @property
    def widths(self):
        return (self.length * (self.vocab_size + 1),) + self.hidden + (self.length * self.vocab_size,)

    def to_dict(self):
        return {"vocab_size": self.vocab_size, "length": self.length, "hidden": list(self.hidden),
                "activation": self.activation}


def init_params(config, rng):
    r"""Weights :math:`W_k \sim \mathcal N(0, 1/D_{in})` (LeCun), zero biases; names W0, b0, W1, b1, ..."""
    rng = validate.generator(rng)
    params = {}
    widths = config.widths
    for k, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
        params[f"W{k}"] = rng.standard_normal((d_in, d_out)) / np.sqrt(d_in)
        params[f"b{k}"] = np.zeros(d_out)
    return params


def one_hot(z, vocab_size, dtype=np.float64, ws=FRESH):
    """(B, L) partial sequences -> (B, L * (V+1)) features."""
    batch, length = z.shape
    X = ws.array("X", (batch, length * (vocab_size + 1)), dtype)
    X.fill(0.0)
    X[np.arange(batch)[:, None], np.arange(length) * (vocab_size + 1) + z] = 1.0
    return X


def forward(params, config, z, ws=FRESH):
    """Log-probabilities (B, L, V) at partial sequences z (B, L), and the cache for :func:`backward`."""
    layers = len(config.widths) - 1
    H = one_hot(z, config.vocab_size, params["W0"].dtype, ws)  # float64; float32 params only for benchmarks
    caches = []
    for k in range(layers):
        Z, linear_cache = linear_forward(H, params[f"W{k}"], params[f"b{k}"], ws, f"Z{k}")
        if k < layers - 1:
            H, act_cache = activation_forward(Z, config.activation, ws, f"A{k}")
        else:
            H, act_cache = Z, None
        caches.append((linear_cache, act_cache))
    logits = H.reshape(z.shape[0], config.length, config.vocab_size)
    logp, softmax_cache = log_softmax_forward(logits, ws)
    return logp, (caches, softmax_cache)


def backward(dlogp, cache, ws=FRESH):
    """Gradients of every parameter given d loss / d logp (B, L, V)."""
    caches, softmax_cache = cache
    dH = log_softmax_backward(dlogp, softmax_cache, ws).reshape(dlogp.shape[0], -1)
    grads = {}
    for k in reversed(range(len(caches))):
        linear_cache, act_cache = caches[k]
        dZ = dH if act_cache is None else activation_backward(dH, act_cache, ws, f"dZ{k}")
        dH, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dZ, linear_cache, k > 0, ws, str(k))
    return grads


def loss_and_grads(params, config, z, x0, weights, loss_mask=None, ws=FRESH):
    """The masked weighted cross-entropy at (z, x0) and its gradient for every parameter.

    ``loss_mask`` defaults to the masked positions of z.  With a workspace the gradients live in its
    arrays (valid until the next call).
    """
    logp, cache = forward(params, config, z, ws)
    loss_mask = (z == config.vocab_size) if loss_mask is None else loss_mask
    loss, dlogp = weighted_masked_nll(logp, loss_mask, x0, weights, ws)
    return loss, backward(dlogp, cache, ws)


class MLP:
    """A trained (or fresh) MLP: its config and parameters; callable as a denoiser."""

    def __init__(self, config, params):
        self.config = config
        widths = config.widths
        for k, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:])):
            if params[f"W{k}"].shape != (d_in, d_out) or params[f"b{k}"].shape != (d_out,):
                raise InvalidParameterError(f"parameter W{k}/b{k} does not fit widths {widths}")
        self.params = {name: np.array(value, dtype=np.float64) for name, value in params.items()}

    @property
    def vocab_size(self):
        return self.config.vocab_size

    @property
    def length(self):
        return self.config.length

    def log_probs(self, z):
        z = validate.tokens(z, self.vocab_size, self.length, partial=True, name="z", ndim=2)
        return forward(self.params, self.config, z)[0]

    def __call__(self, z):
        """Denoiser protocol: (B, L) partial sequences -> (B, L, V) probabilities, one-hot where clean."""
        z = validate.tokens(z, self.vocab_size, self.length, partial=True, name="z", ndim=2)
        probs = np.exp(forward(self.params, self.config, z)[0])
        clean = z != self.vocab_size
        probs[clean] = np.eye(self.vocab_size)[z[clean]]
        return probs

    def __repr__(self):
        return f"MLP(V={self.vocab_size}, L={self.length}, hidden={self.config.hidden}, {self.config.activation})"
