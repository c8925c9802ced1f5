r"""diffusers' ``BlockRefinementScheduler`` without a mask token (its "uniform corruption mode"), as
``DiffusionGemmaPipeline`` drives it (diffusers 0.42.1, ``schedulers/scheduling_block_refinement.py``,
``pipelines/diffusion_gemma/pipeline_diffusion_gemma.py``; rule R9 of SAMPLERS-2026.md), with its exact law and
expected calls (issue #38, build 4)."""
import dataclasses

import numpy as np
from scipy.special import entr

from ..core import validate
from ..core.memory import check_memory
from ..core.numerics import sample_categorical
from ..engine.uniform_chain import advance_runs, answers, canvases, run_columns, stable_runs
from .kernels.tokens import temper
from .params import optional_float, param, temperature_param


@dataclasses.dataclass(frozen=True)
class UniformBlockRefinement:
    r"""One canvas of L tokens from a uniformly random canvas, ``steps`` model calls at most; the scheduler keeps a
    set C of committed positions (empty at step 0).  Step k = 0..N-1 at canvas z: every position draws a token
    :math:`y_i` — the argmax at ``temperature`` 0 (first on ties), else from softmax(logits / T) — with the confidence
    :math:`c_i` = the probability of :math:`y_i` under the law it was drawn from (at T = 0 the untempered one); with
    the quota :math:`\lceil (k+1)L/N \rceil` and ``needed`` = quota - \|C\| (at least 0), the uncommitted positions of
    confidence rank < needed (ranked among the uncommitted, lowest position first on ties; torch's argsort leaves
    them unspecified) or confidence > ``threshold`` take :math:`y_i` and join C; committed positions with
    :math:`y_i \ne z_i` and confidence > ``editing_threshold`` take :math:`y_i` **whenever the threshold is not None**
    (so 0.0 edits every change, where the class docstring and the mask mode read 0.0 as off); every position outside
    C takes a fresh uniform token.  The last step's quota is L, so every position is committed after it.

    The pipeline's adaptive stop (with ``confidence_threshold`` set): the argmax of the model's logits (the raw
    ones: this scheduler returns them as ``pred_logits``) unchanged over the last max(s, 1) steps and their mean
    entropy below the threshold; a stopped run outputs that argmax canvas, the others the canvas after the last step.

    The state is (canvas, C, the last argmax canvas and how long it has held, up to max(s, 1)):
    :math:`V^L 2^L (\max(s, 1) V^L + 1)` numbers (without a stop rule :math:`V^L 2^L`), refused above the memory
    limit before anything is formed; a step's work is :math:`V^{2L} 2^L` draws.  Not modelled: the pipeline's
    top-k / top-p (it passes none), the corrector (this
    scheduler has none), EOS stops across canvases; diffusers forms confidences in float32.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_oracles import time_agnostic_oracle
    >>> from refimpl.samplers.block_refinement_uniform import UniformBlockRefinement
    >>> law, calls = UniformBlockRefinement(2).exact_law_and_calls(time_agnostic_oracle(refimpl.datasets.coupled_pairs()),
    ...                                                              4, 2)
    >>> round(float(law.sum()), 12), calls
    (1.0, 2.0)
    """

    steps: int = param(48, help="model calls per canvas (the pipeline's num_inference_steps)")
    threshold: float = param(0.95, help="also commit an uncommitted position whose confidence is above this")
    editing_threshold: "float | None" = param(None, help="replace a committed token whose redraw differs with "
                                                         "confidence above this ('none': off; 0.0 edits every change)",
                                              convert=optional_float)
    temperature: float = temperature_param(0.0)
    stability_threshold: int = param(1, help="the pipeline's stop: the argmax canvas unchanged over max(this, 1) steps")
    confidence_threshold: "float | None" = param(0.005, help="...and the mean entropy below this ('none': never stop "
                                                              "early)", convert=optional_float)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("steps", validate.integer(self.steps, "UniformBlockRefinement steps", 1))
        set_("threshold", validate.number(self.threshold, "UniformBlockRefinement threshold"))
        if self.editing_threshold is not None:
            set_("editing_threshold", validate.number(self.editing_threshold, "UniformBlockRefinement editing_threshold"))
        set_("temperature", validate.temperature(self.temperature, "UniformBlockRefinement temperature"))
        set_("stability_threshold", validate.integer(self.stability_threshold,
                                                     "UniformBlockRefinement stability_threshold", 0))
        if self.confidence_threshold is not None:
            set_("confidence_threshold", validate.nonnegative(self.confidence_threshold,
                                                              "UniformBlockRefinement confidence_threshold"))

    def draw_law(self, mu):
        """(the law each position draws from (N, L, V), the confidence of each token (N, L, V))."""
        q = temper(mu, self.temperature)
        return q, (mu if self.temperature == 0 else q)

    def commit(self, committed, confidence, k, length):
        """(transfer, quota): the uncommitted positions that take their draw at step k — ``committed`` (..., L) bools,
        ``confidence`` (..., L) of the drawn tokens."""
        quota = -(-(k + 1) * length // self.steps)
        needed = np.maximum(quota - committed.sum(axis=-1), 0)
        keyed = np.where(committed, -np.inf, confidence)
        order = np.argsort(-keyed, axis=-1, kind="stable")  # (descending; lowest position first on ties)
        ranks = np.argsort(order, axis=-1, kind="stable")
        return ~committed & ((ranks < needed[..., None]) | (confidence > self.threshold))

    def edits(self, committed, drawn, canvas, confidence):
        if self.editing_threshold is None:
            return np.zeros(committed.shape, dtype=bool)
        return committed & (drawn != canvas) & (confidence > self.editing_threshold)

    def _stopping(self):
        return self.confidence_threshold is not None

    def exact_law_and_calls(self, denoiser, vocab_size, length):
        """(the law of the output canvas, a table (V,)*L; the expected model calls)."""
        vocab_size, length = validate.space(vocab_size, length)
        size, sets = vocab_size ** length, 2 ** length
        history = max(self.stability_threshold, 1) if self._stopping() else 0  # (the pipeline keeps max(s, 1))
        previous = run_columns(size, history)
        check_memory(8 * (3 * size * sets * previous + 4 * size * sets * length),
                     f"UniformBlockRefinement's exact law at V={vocab_size}, L={length}: {size * sets * previous} "
                     f"(canvas, committed set, previous argmax canvas) states")
        grid = canvases(vocab_size, length)
        mu = answers(denoiser, vocab_size, length)
        q, confidence_of = self.draw_law(mu)
        argmax = np.argmax(mu, axis=-1) @ (vocab_size ** np.arange(length - 1, -1, -1))
        confident = (entr(mu).sum(axis=-1).mean(axis=1) < self.confidence_threshold if self._stopping()
                     else np.zeros(size, dtype=bool))
        bits = ((np.arange(sets)[:, None] >> np.arange(length - 1, -1, -1)) & 1).astype(bool)  # (2^L, L) set -> flags
        weights = vocab_size ** np.arange(length - 1, -1, -1)
        mass = np.zeros((size, sets, previous))
        mass[:, 0, -1] = 1.0 / size  # a random canvas, nothing committed, no argmax yet (the last column)
        out, calls = np.zeros(size), 0.0
        for k in range(self.steps):
            calls += mass.sum()
            if self._stopping():
                stop = (stable_runs(argmax, history, previous) & confident[:, None])[:, None, :]
                np.add.at(out, argmax, (mass * stop).sum(axis=(1, 2)))
                mass = mass * ~stop
            alive = mass.sum(axis=2)  # (canvas, set)
            held = np.stack([advance_runs(mass[:, m, :], argmax if self._stopping() else np.zeros(size, int), history)
                             for m in range(sets)], axis=1)  # (canvas, set, run state) after this step's argmax
            target = np.zeros((size, sets, previous))  # before the uncommitted positions are renoised
            for c in np.flatnonzero(alive.sum(axis=1) > 0):
                law_y = np.prod(q[c][np.arange(length), grid], axis=1)  # (V^L,) the law of the draw y
                drawn = grid[law_y > 0]
                weight = law_y[law_y > 0]
                conf = confidence_of[c][np.arange(length), drawn]  # (draws, L)
                for m in np.flatnonzero(alive[c] > 0):
                    committed = np.broadcast_to(bits[m], drawn.shape)
                    transfer = self.commit(committed, conf, k, length)
                    taken = transfer | self.edits(committed, drawn, grid[c], conf)
                    after = committed | transfer
                    values = np.where(taken, drawn, grid[c]) * after  # (uncommitted positions at 0, then spread)
                    np.add.at(target, (values @ weights, after @ (1 << np.arange(length - 1, -1, -1))),
                              weight[:, None] * held[c, m][None, :])
            mass = self._renoise(target, bits, vocab_size, length)
        np.add.at(out, np.arange(size), mass.sum(axis=(1, 2)))  # every position is committed after the last step
        return out.reshape((vocab_size,) * length), float(calls)

    @staticmethod
    def _renoise(target, bits, vocab_size, length):
        """Spread each set's mass uniformly over the tokens of the positions outside it (held at token 0)."""
        out = np.zeros_like(target)
        for m, flags in enumerate(bits):
            block = target[:, m, :].reshape((vocab_size,) * length + (-1,))
            free = tuple(np.flatnonzero(~flags))
            if free:
                block = np.broadcast_to(block.sum(axis=free, keepdims=True) / vocab_size ** len(free), block.shape)
            out[:, m, :] = block.reshape(-1, target.shape[2])
        return out

    def sample(self, denoiser, n, rng, vocab_size, length):
        """refimpl's own draws: (outputs (n, L), model calls (n,))."""
        rng = validate.generator(rng)
        z = rng.integers(0, vocab_size, size=(n, length))
        committed, history = np.zeros((n, length), dtype=bool), np.full((n, max(self.stability_threshold, 1), length), -1)
        done, calls = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        for k in range(self.steps):
            live = np.flatnonzero(~done)
            if not live.size:
                break
            calls[live] += 1
            mu = np.asarray(denoiser(z[live]), dtype=np.float64)
            if self._stopping():
                argmax = np.argmax(mu, axis=-1)
                stop = (history[live] == argmax[:, None]).all(axis=(1, 2)) & (entr(mu).sum(axis=-1).mean(axis=1)
                                                                             < self.confidence_threshold)
                history[live] = np.concatenate([history[live, 1:], argmax[:, None]], axis=1)
                z[live[stop]], done[live[stop]] = argmax[stop], True
                keep = ~stop
                live, mu = live[keep], mu[keep]
            q, confidence_of = self.draw_law(mu)
            drawn = sample_categorical(q, rng)
            conf = np.take_along_axis(confidence_of, drawn[..., None], axis=-1)[..., 0]
            transfer = self.commit(committed[live], conf, k, length)
            taken = transfer | self.edits(committed[live], drawn, z[live], conf)
            committed[live] |= transfer
            fresh = rng.integers(0, vocab_size, size=(live.size, length))
            z[live] = np.where(committed[live], np.where(taken, drawn, z[live]), fresh)
        return z, calls
