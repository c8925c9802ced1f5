r"""The NumPy MLP as a model without a mask (issue #38, build 3): clean canvases in, with or without the time, and
trained either on cross-entropy over every position (what DiffusionGemma's public recipes train, not told t) or on
UDLM's continuous-time uniform NELBO (told t) — each with a hand-written gradient.

Input: the one-hot of the canvas, ``L * V`` features, and with ``timed`` one more, :math:`\alpha_t`.  The layers
are :mod:`refimpl.models.mlp`'s.  The minimisers are known exactly: the time-agnostic oracle
(:func:`refimpl.diffusion.uniform_oracles.time_agnostic_oracle`) for the cross-entropy and the leave-one-out
posterior (:func:`refimpl.diffusion.uniform_elbo.loo_oracle`) for the NELBO; :func:`distance_to_oracle` measures a
trained model against them.

Examples
--------
>>> import refimpl
>>> from refimpl.models.uniform_mlp import UniformTrainConfig, train_uniform
>>> model, history = train_uniform(refimpl.datasets.coupled_pairs(), UniformTrainConfig(steps=20, hidden=(8,)))
>>> model([[0, 1]]).shape, len(history)
((1, 2, 4), 20)
"""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.types import LawLike
from . import optim
from .mlp import (
    ACTIVATIONS,
    activation_backward,
    activation_forward,
    linear_backward,
    linear_forward,
    log_softmax_backward,
    log_softmax_forward,
)

LOSSES = ("cross_entropy", "nelbo")


@dataclasses.dataclass(frozen=True)
class UniformTrainConfig:
    """``loss``: "cross_entropy" (every position scored, the model not told t, t ~ U(eps, 1), alpha = 1 - t) or
    "nelbo" (UDLM's continuous NELBO, the model told alpha_t; t = s^3 with s uniform, weighted 3 s^2, as
    :func:`refimpl.diffusion.uniform_elbo.continuous_nelbo` integrates it)."""

    loss: str = "cross_entropy"
    steps: int = 2000
    batch_size: int = 256
    lr: float = 3e-3
    hidden: tuple = (64, 64)
    activation: str = "gelu"
    eps: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        validate.choice(self.loss, LOSSES, "loss")
        validate.integer(self.steps, "steps", 1)
        validate.integer(self.batch_size, "batch_size", 1)
        if not validate.number(self.lr, "lr") > 0:
            raise InvalidParameterError(f"lr must be > 0, got {self.lr}")
        validate.choice(self.activation, ACTIVATIONS, "activation")
        validate.probability(self.eps, "eps", open_high=True)

    @property
    def timed(self):
        return self.loss == "nelbo"


class UniformMLP:
    """A model without a mask: callable on clean canvases (B, L) -> (B, L, V); with ``timed``, ``at(alpha)`` is the
    denoiser told alpha (and calling it without the time is refused)."""

    def __init__(self, vocab_size, length, params, activation="gelu", timed=False):
        self.vocab_size, self.length, self.timed = int(vocab_size), int(length), bool(timed)
        self.activation, self.params = activation, {k: np.array(v, dtype=np.float64) for k, v in params.items()}

    def log_probs(self, z, alpha=None):
        z = validate.tokens(z, self.vocab_size, self.length, partial=False, name="z", ndim=2)
        return forward(self.params, self, z, alpha)[0]

    def at(self, alpha):
        """The denoiser told ``alpha``."""
        if not self.timed:
            raise InvalidParameterError("this model is not told the time: call it on canvases directly")
        return lambda z: np.exp(self.log_probs(z, float(alpha)))

    def __call__(self, z):
        if self.timed:
            raise InvalidParameterError("this model is told the time: use model.at(alpha)(z)")
        return np.exp(self.log_probs(z))

    def __repr__(self):
        return f"UniformMLP(V={self.vocab_size}, L={self.length}, {'told t' if self.timed else 'not told t'})"


def widths(vocab_size, length, hidden, timed):
    return (length * vocab_size + int(timed),) + tuple(hidden) + (length * vocab_size,)


def init_params(vocab_size, length, hidden, timed, rng):
    out = {}
    for k, (d_in, d_out) in enumerate(zip(widths(vocab_size, length, hidden, timed)[:-1],
                                           widths(vocab_size, length, hidden, timed)[1:])):
        out[f"W{k}"], out[f"b{k}"] = rng.standard_normal((d_in, d_out)) / np.sqrt(d_in), np.zeros(d_out)
    return out


def forward(params, model, z, alpha=None):
    """Log-probabilities (B, L, V) and the cache for :func:`refimpl.models.mlp.backward`-style backprop."""
    batch, length, vocab_size = z.shape[0], model.length, model.vocab_size
    X = np.zeros((batch, length * vocab_size + int(model.timed)))
    X[np.arange(batch)[:, None], np.arange(length) * vocab_size + z] = 1.0
    if model.timed:
        if alpha is None:
            raise InvalidParameterError("this model is told the time: give alpha")
        X[:, -1] = np.broadcast_to(np.asarray(alpha, dtype=np.float64).reshape(-1), (batch,))
    layers, H, caches = len(params) // 2, X, []
    for k in range(layers):
        Z, linear_cache = linear_forward(H, params[f"W{k}"], params[f"b{k}"])
        H, act_cache = (activation_forward(Z, model.activation) if k < layers - 1 else (Z, None))
        caches.append((linear_cache, act_cache))
    logp, softmax_cache = log_softmax_forward(H.reshape(batch, length, vocab_size))
    return logp, (caches, softmax_cache)


def backward(dlogp, cache):
    caches, softmax_cache = cache
    dH, grads = log_softmax_backward(dlogp, softmax_cache).reshape(dlogp.shape[0], -1), {}
    for k in reversed(range(len(caches))):
        linear_cache, act_cache = caches[k]
        dZ = dH if act_cache is None else activation_backward(dH, act_cache)
        dH, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dZ, linear_cache, k > 0)
    return grads


def cross_entropy(logp, x0):
    r"""Mean over the batch of :math:`\sum_i -\log \mu_i(x_0^i \mid z)`, and d/d logp."""
    batch = logp.shape[0]
    picked = np.take_along_axis(logp, x0[..., None], axis=-1)[..., 0]
    dlogp = np.zeros_like(logp)
    np.put_along_axis(dlogp, x0[..., None], -1.0 / batch, axis=-1)
    return float(-picked.sum() / batch), dlogp


def nelbo_terms(logp, x0, z, alpha, dalpha, weight):
    r"""UDLM's per-position loss (:func:`refimpl.diffusion.uniform_elbo.nelbo_integrand`'s) summed over positions,
    times ``weight`` per row, mean over the batch — and its gradient in logp:
    :math:`\partial\ell/\partial\bar x_{\theta,v} = c\,([v = z_i](V/\bar x_{\theta,z}^2 - S/\bar x_{\theta,z})
    + \bar x_v / (\bar x_z \bar x_{\theta,v}))`, :math:`S = \sum_w \bar x_w/\bar x_z`, chained through
    :math:`\bar x_\theta = V\alpha\mu + 1 - \alpha` and :math:`\mu = e^{\log p}`."""
    batch, length, vocab_size = logp.shape
    a, c = alpha[:, None, None], (dalpha / (vocab_size * alpha))[:, None]  # (B, 1, 1), (B, 1)
    mu = np.exp(logp)
    eye = np.eye(vocab_size)
    bar = vocab_size * a * eye[x0] + (1.0 - a)  # x_bar for x_0^i, (B, L, V)
    theta = vocab_size * a * mu + (1.0 - a)
    seen = eye[z].astype(bool)
    bar_z, theta_z = bar[seen].reshape(batch, length), theta[seen].reshape(batch, length)
    term1 = vocab_size / bar_z - vocab_size / theta_z
    ratio = bar / bar_z[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):  # (alpha = 1 in float64: x_bar is 0 off x_0, its term 0)
        logs = np.log(theta_z)[..., None] - np.log(theta) + np.log(bar) - np.log(bar_z)[..., None]
        per = c * (term1 - np.where(ratio > 0, ratio * logs, 0.0).sum(axis=-1))  # (B, L)
    loss = float((weight[:, None] * per).sum() / batch)
    d_theta = c[..., None] * (seen * (vocab_size / theta_z ** 2 - ratio.sum(axis=-1) / theta_z)[..., None]
                              + ratio / theta)
    dlogp = (weight / batch)[:, None, None] * d_theta * vocab_size * a * mu
    return loss, dlogp


def train_uniform(data: LawLike, config: UniformTrainConfig = UniformTrainConfig(), progress=None):
    """Train a :class:`UniformMLP` on the law ``data`` (a table); returns ``(model, history)`` (loss per step)."""
    table = validate.law_table(data)
    vocab_size, length = table.shape[0], table.ndim
    rng = np.random.default_rng(config.seed)
    params = init_params(vocab_size, length, config.hidden, config.timed, rng)
    model = UniformMLP(vocab_size, length, params, config.activation, config.timed)
    state, history, flat = optim.adam_init(model.params), [], table.ravel()
    for step in range(config.steps):
        x0 = np.array(np.unravel_index(rng.choice(flat.size, size=config.batch_size, p=flat), table.shape)).T
        if config.timed:
            s = rng.random(config.batch_size)
            t, weight = s ** 3, 3.0 * s ** 2
            alpha = 1.0 - t
            z = np.where(rng.random(x0.shape) < t[:, None], rng.integers(0, vocab_size, size=x0.shape), x0)
            logp, cache = forward(model.params, model, z, alpha)
            loss, dlogp = nelbo_terms(logp, x0, z, alpha, -np.ones_like(alpha), weight)
        else:
            t = config.eps + (1.0 - config.eps) * rng.random(config.batch_size)
            z = np.where(rng.random(x0.shape) < t[:, None], rng.integers(0, vocab_size, size=x0.shape), x0)
            logp, cache = forward(model.params, model, z)
            loss, dlogp = cross_entropy(logp, x0)
        model.params, state = optim.adam(model.params, backward(dlogp, cache), state, config.lr)
        history.append(loss)
    return model, np.array(history)


def distance_to_oracle(model, oracle, alphas=None):
    """The largest and the mean total variation, over every canvas and position, between the model's answers and
    ``oracle``'s — one oracle, or with ``alphas`` a function alpha -> oracle compared with ``model.at(alpha)``."""
    vocab_size, length = model.vocab_size, model.length
    grid = np.indices((vocab_size,) * length).reshape(length, -1).T
    pairs = [(model, oracle)] if alphas is None else [(model.at(a), oracle(a)) for a in alphas]
    gaps = np.concatenate([0.5 * np.abs(np.asarray(m(grid)) - np.asarray(o(grid))).sum(axis=-1).ravel()
                           for m, o in pairs])
    return float(gaps.max()), float(gaps.mean())


SCHEMA = "refimpl-uniform-mlp/1"


def save(path, model: UniformMLP, history=()) -> None:
    """A ``.npz`` (schema ``refimpl-uniform-mlp/1``: ``config`` as JSON, ``param/<name>`` arrays, ``history``),
    written atomically, no pickle."""
    import io
    import json

    from ..core.files import atomic_write_bytes

    config = {"vocab_size": model.vocab_size, "length": model.length, "activation": model.activation,
              "timed": model.timed}
    arrays = {"schema": np.array(SCHEMA), "config": np.array(json.dumps(config)),
              "history": np.asarray(history, dtype=np.float64)}
    arrays.update({f"param/{name}": value for name, value in model.params.items()})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load(path) -> UniformMLP:
    """The model :func:`save` wrote; a file of another kind is one clear error."""
    import json
    import zipfile

    from ..core.errors import FileFormatError

    try:
        with np.load(path, allow_pickle=False) as data:
            if "schema" not in data or str(data["schema"]) != SCHEMA:
                raise FileFormatError(f"{path} is not a uniform-state model ({SCHEMA}); 'refimpl train --noise "
                                      f"uniform --out FILE' writes one")
            config = json.loads(str(data["config"]))
            params = {name[len("param/"):]: data[name] for name in data.files if name.startswith("param/")}
    except FileNotFoundError:
        raise FileFormatError(f"no model at {path}") from None
    except (OSError, ValueError, zipfile.BadZipFile, KeyError) as error:
        raise FileFormatError(f"{path} is not a readable .npz model: {error}") from None
    return UniformMLP(config["vocab_size"], config["length"], params, config["activation"], config["timed"])
