r"""Training the MLP denoiser on the NELBO.

Each step draws a batch of clean sequences (from a law table or a list of sequences), masks them,
and takes an Adam step on the weighted masked cross-entropy (:func:`refimpl.models.mlp.weighted_masked_nll`):

- ``masking="random"`` (MDLM): :math:`t \sim U(0,1)` (``antithetic``: MDLM's stratified
  :math:`t_b = (u + b/B) \bmod 1`), every position masked with probability :math:`1 - \alpha(t)`,
  weight :math:`w(t)`; the expected loss is the continuous NELBO.
- ``masking="any_order"``: :math:`k \sim U\{1..L\}`, a uniform k-subset masked, weight :math:`L/k`: the same
  expected loss with bounded variance.
- ``masking="blockwise"`` (the paper's blockwise reverse-order masking): blocks of ``block_size`` from
  the left; a block c is drawn uniformly; blocks before it are clean, blocks after it fully masked,
  and inside it each position is masked with probability :math:`1 - \alpha(t)`; only the current
  block's masked positions enter the loss, with weight :math:`n_{blocks} w(t)` — the NELBO of the
  semi-autoregressive factorisation :math:`\prod_c p(x_{B_c} \mid x_{B_{<c}})`.

Seeded by one ``numpy.random.Generator`` whose state is checkpointed, so a run resumed from a
checkpoint ends bit-identical to one that never stopped.

Examples
--------
>>> import numpy as np, refimpl
>>> p = refimpl.datasets.coupled_pairs()
>>> config = refimpl.mlp.MLPConfig(vocab_size=4, length=2, hidden=(16,), activation="gelu")
>>> model, history = refimpl.train.train(p, config, refimpl.train.TrainConfig(steps=200, seed=0), progress=False)
>>> len(history), bool(refimpl.nelbo(model, p) >= refimpl.entropy(p))   # no denoiser beats H(p)
(200, True)
"""
import dataclasses
import json
import os
import sys
from typing import Callable, TextIO

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.numerics import Workspace
from ..core.types import LawLike, ScheduleLike
from ..diffusion.forward import any_order_mask
from ..diffusion.schedules import Linear, check_schedule
from ..laws import space
from ..laws.joint import Law
from . import checkpoint, optim
from .mlp import MLP, MLPConfig, init_params, loss_and_grads

MASKINGS = ("random", "any_order", "blockwise")
MAX_STEPS = 10**9


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000
    batch_size: int = 256
    lr: float = 1e-3
    masking: str = "random"
    block_size: int = 1
    antithetic: bool = True
    seed: int = 0
    checkpoint_every: int = 0  # 0: only at the end (when a path is given)
    lr_decay: str = "cosine"  # "cosine": lr * (1 + cos(pi * step / steps)) / 2; "constant"

    def __post_init__(self):
        if validate.integer(self.steps, "steps", 1) > MAX_STEPS:
            raise InvalidParameterError(f"steps must be at most {MAX_STEPS}, got {self.steps}")
        validate.integer(self.batch_size, "batch_size", 1)
        validate.integer(self.block_size, "block_size", 1)
        validate.integer(self.checkpoint_every, "checkpoint_every", 0)
        object.__setattr__(self, "lr", validate.number(self.lr, "lr"))
        if not isinstance(self.antithetic, (bool, np.bool_)):
            raise InvalidParameterError(f"antithetic must be True or False, got {self.antithetic!r}")
        if not self.lr > 0:
            raise InvalidParameterError(f"lr must be positive, got {self.lr!r}")
        validate.choice(self.lr_decay, ("cosine", "constant"), "lr_decay")
        validate.choice(self.masking, MASKINGS, "masking")

    def to_dict(self):
        return dataclasses.asdict(self)

    def lr_at(self, step):
        """Learning rate of step ``step`` (0-based)."""
        if self.lr_decay == "constant":
            return self.lr
        return self.lr * 0.5 * (1.0 + np.cos(np.pi * step / self.steps))


class DataSource:
    """Clean sequences to train on: a law table (sampled exactly) or a list of sequences (uniform rows)."""

    def __init__(self, data, vocab_size=None):
        if isinstance(data, Law) or (isinstance(data, np.ndarray) and data.dtype == np.float64):
            table = validate.law_table(data)
            self.vocab_size, self.length = table.shape[0], table.ndim
            self._flat = table.ravel()
            self._rows = None
        else:
            rows = validate.as_array(data, "training data")
            if rows.ndim != 2 or rows.shape[0] == 0 or rows.dtype.kind not in "iu":
                raise InvalidParameterError(f"training data must be a law or an (N, L) token array, got {rows.shape}")
            vocab_size = max(int(rows.max()) + 1, 2) if vocab_size is None else validate.integer(vocab_size, "vocab_size", 2)
            self._rows = validate.tokens(rows, vocab_size, partial=False, name="training sequences")
            self.vocab_size, self.length = vocab_size, rows.shape[1]

    def draw(self, n, rng):
        if self._rows is None:
            return space.decode(rng.choice(self._flat.size, size=n, p=self._flat), self.vocab_size, self.length)
        return self._rows[rng.integers(0, len(self._rows), size=n)]


def mask_batch(x0: np.ndarray, config: "TrainConfig", schedule: ScheduleLike, rng: np.random.Generator,
               vocab_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(z, loss_mask, weights)`` for a batch of clean sequences, per ``config.masking``."""
    batch, length = x0.shape
    if config.masking == "any_order":
        masked, k = any_order_mask(batch, length, rng)
        return np.where(masked, vocab_size, x0), masked, length / k
    if config.antithetic:
        t = (rng.random() + np.arange(batch) / batch) % 1.0
    else:
        t = rng.random(batch)
    t = np.maximum(t, np.nextafter(0.0, 1.0))  # t = 0 has weight inf and masks nothing
    drawn = rng.random((batch, length)) < schedule.mask_prob(t)[:, None]
    weight = schedule.weight(t)
    if config.masking == "random":
        return np.where(drawn, vocab_size, x0), drawn, weight
    blocks = -(-length // config.block_size)
    current = rng.integers(0, blocks, size=batch)[:, None]  # (B, 1)
    block_of = np.arange(length)[None, :] // config.block_size  # (1, L)
    in_block = drawn & (block_of == current)
    masked = in_block | (block_of > current)
    return np.where(masked, vocab_size, x0), in_block, blocks * weight


def train(data: "LawLike | DataSource", model_config: MLPConfig, config: "TrainConfig" = TrainConfig(),
          schedule: ScheduleLike | None = None, checkpoint_path: str | os.PathLike | None = None, resume: bool = False,
          on_step: Callable | None = None, progress: TextIO | None = None) -> tuple[MLP, np.ndarray]:
    r"""Train an :class:`MLP` on the NELBO; returns ``(model, history)`` (loss per step).

    ``checkpoint_path`` gets a checkpoint every ``config.checkpoint_every`` steps and at the end;
    ``resume=True`` continues from it.  ``on_step(step, loss)`` is called after every step.
    ``progress`` (default: when stderr is a terminal) prints a progress line.
    """
    schedule = check_schedule(Linear() if schedule is None else schedule)
    if not isinstance(model_config, MLPConfig) or not isinstance(config, TrainConfig):
        raise validate.InvalidTypeError("train needs an MLPConfig and a TrainConfig")
    check_memory(12 * config.batch_size * max(model_config.widths) * 8,
                 f"a training batch of {config.batch_size} through widths {model_config.widths}")
    source = DataSource(data, model_config.vocab_size)
    if (source.vocab_size, source.length) != (model_config.vocab_size, model_config.length):
        raise InvalidParameterError(
            f"data has V={source.vocab_size}, L={source.length} but the model is for "
            f"V={model_config.vocab_size}, L={model_config.length}")
    if resume:
        if checkpoint_path is None:
            raise InvalidParameterError("resume needs a checkpoint path")
        model, opt_state, state, history = checkpoint.load(checkpoint_path)
        if model.config != model_config or state.get("train") != json.loads(json.dumps(config.to_dict())):
            raise InvalidParameterError("the checkpoint was written by a run with other settings; resume needs the same")
        params, start = model.params, int(state["step"])
        rng = np.random.default_rng()
        rng.bit_generator.state = state["rng"]
        history = list(history)
    else:
        rng = np.random.default_rng(config.seed)
        params = init_params(model_config, rng)
        opt_state, start, history = optim.adam_init(params), 0, []
    progress = sys.stderr.isatty() if progress is None else progress

    def save(step):
        state = {"step": step, "rng": rng.bit_generator.state, "train": config.to_dict()}
        checkpoint.save(checkpoint_path, MLP(model_config, params), opt_state, state, history)

    ws = Workspace()  # arrays reused across steps; Adam updates params and opt_state in place
    for step in range(start, config.steps):
        x0 = source.draw(config.batch_size, rng)
        z, loss_mask, weights = mask_batch(x0, config, schedule, rng, model_config.vocab_size)
        loss, grads = loss_and_grads(params, model_config, z, x0, weights, loss_mask, ws)
        params, opt_state = optim.adam(params, grads, opt_state, config.lr_at(step), ws=ws)
        history.append(loss)
        if on_step is not None:
            on_step(step + 1, loss)
        if progress and ((step + 1) % 50 == 0 or step + 1 == config.steps):
            recent = np.mean(history[-50:])
            print(f"\rstep {step + 1}/{config.steps}  loss {recent:.4f}", end="", file=sys.stderr, flush=True)
        if checkpoint_path and config.checkpoint_every and (step + 1) % config.checkpoint_every == 0:
            save(step + 1)
    if progress:
        print(file=sys.stderr)
    if checkpoint_path:
        save(config.steps)
    return MLP(model_config, params), np.array(history)
