r"""DiffusionGemma's renoising sampler (rule R8 of SAMPLERS-2026.md) as dllm runs it
(``dllm/pipelines/diffusiongemma/sampler.py`` at 37f3e11, ``DiffusionGemmaSampler._denoising_step``, a port of the
transformers loop), with its exact output law and expected model calls (issue #38, build 4); and the same step as
diffusers ships it (``UniformEntropyBound``: its cooling, stop rule and output)."""
import dataclasses

import numpy as np
from scipy.special import entr

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.numerics import sample_categorical
from ..engine.uniform_chain import advance_runs, answers, run_columns, stable_runs, step_rows
from .kernels.tokens import temper
from .params import optional_float, param


@dataclasses.dataclass(frozen=True)
class Renoise:
    r"""One canvas of L tokens, from a uniformly random canvas, for at most ``steps`` model calls
    (``max_denoising_steps``).  Step n = 1..N asks the model at the canvas z and tempers its logits by
    :math:`T = t_{min} + (t_{max} - t_{min})\,r/N`, r = N - n + 1 the steps left (so :math:`T_1 = t_{max}` and the last
    step runs at :math:`t_{min} + (t_{max} - t_{min})/N`); every position draws a token from the tempered law;
    positions sorted by the tempered entropy H (ascending; ties lowest position first — torch's sort is not stable)
    are accepted while the entropy before them sums to at most ``entropy_bound`` (the lowest always); accepted
    positions keep their draw, the others take a fresh uniform token.  The argmax canvas a (the untempered argmax,
    first on ties) is the output: the run stops after the first step whose argmax canvas equals those of the
    ``stability_threshold`` steps before (0: always) and whose mean entropy is below ``confidence_threshold`` (None:
    never), else after step N.

    The law's state before a step is the canvas and what the stop rule reads: the last argmax canvas and how many
    steps in a row it has held (up to s = ``stability_threshold``): :math:`V^L (s V^L + 1)` states, a step
    :math:`V^{2L}` products and a :math:`V^L \times V^L (s V^L + 1)` matrix product, refused above the memory limit
    before anything is formed.  Calls:
    the decoder calls, one per step run (dllm's ``decoder_forward_passes``); the encoder's one call per canvas comes
    on top.  The model is self-conditioning-blind (refimpl.diffusion.uniform_oracles).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_oracles import time_agnostic_oracle
    >>> from refimpl.samplers.renoise import Renoise
    >>> p = refimpl.datasets.coupled_pairs()
    >>> law, calls = Renoise(8).exact_law_and_calls(time_agnostic_oracle(p), 4, 2)
    >>> round(float(law.sum()), 12), bool(1 <= calls <= 8)
    (1.0, True)
    """

    steps: int = param(48, help="the step budget per canvas (max_denoising_steps)")
    entropy_bound: float = param(0.1, help="accept the lowest-entropy positions while the entropy before them sums "
                                           "to at most this")
    max_temperature: float = param(0.8, help="the first step's temperature (t_max)")
    min_temperature: float = param(0.4, help="the temperature the schedule cools towards (t_min)")
    stability_threshold: int = param(1, help="stop when the argmax canvas equals the last this many (0 or 1)")
    confidence_threshold: "float | None" = param(0.005, help="...and the mean entropy is below this ('none': never "
                                                              "stop early)", convert=optional_float)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("steps", validate.integer(self.steps, "Renoise steps", 1))
        set_("entropy_bound", validate.nonnegative(self.entropy_bound, "Renoise entropy_bound"))
        set_("max_temperature", validate.temperature(self.max_temperature, "Renoise max_temperature"))
        set_("min_temperature", validate.temperature(self.min_temperature, "Renoise min_temperature"))
        if self.min_temperature <= 0 or self.max_temperature < self.min_temperature:
            raise InvalidParameterError(f"Renoise needs 0 < min_temperature <= max_temperature, got "
                                        f"{self.min_temperature} and {self.max_temperature}")
        set_("stability_threshold", validate.integer(self.stability_threshold, "Renoise stability_threshold", 0))
        if self.confidence_threshold is not None:
            set_("confidence_threshold", validate.nonnegative(self.confidence_threshold,
                                                              "Renoise confidence_threshold"))

    def temperature(self, remaining):
        """The step's temperature, ``remaining`` = N - n + 1."""
        return self.min_temperature + (self.max_temperature - self.min_temperature) * remaining / self.steps

    def view(self, mu, remaining):
        """At canvases with answers ``mu`` (N, L, V): the tempered law q, the accepted positions (N, L), the argmax
        canvas (N, L) and the mean entropy (N,)."""
        q = temper(mu, self.temperature(remaining))
        entropy = entr(q).sum(axis=-1)  # (N, L), nats
        order = np.argsort(entropy, axis=1, kind="stable")
        ranked = np.take_along_axis(entropy, order, axis=1)
        keep = (np.cumsum(ranked, axis=1) - ranked) <= self.entropy_bound
        accepted = np.zeros(entropy.shape, dtype=bool)
        np.put_along_axis(accepted, order, keep, axis=1)
        return q, accepted, np.argmax(mu, axis=-1), entropy.mean(axis=1)

    renoised_output = False  # (a class attribute: what a run that never stops outputs — here its argmax canvas)

    def _history(self):
        """How many earlier argmax canvases the stop rule compares (0: none, always stable)."""
        return self.stability_threshold

    def _confident(self, mean_entropy):
        if self.confidence_threshold is None:
            return np.zeros(mean_entropy.shape, dtype=bool)
        return mean_entropy < self.confidence_threshold

    def exact_law_and_calls(self, denoiser, vocab_size, length):
        """(the law of the output argmax canvas, a table (V,)*L; the expected decoder calls).  The stop rule's state
        is the last argmax canvas and how many steps in a row it has held, up to s: (canvas, a, k) — s V^L + 1
        columns per canvas (one for "none yet")."""
        vocab_size, length = validate.space(vocab_size, length)
        size, h = vocab_size ** length, self._history()
        columns = run_columns(size, h)
        check_memory(8 * (4 * size * columns + 2 * size * size),
                     f"{type(self).__name__}'s exact law at V={vocab_size}, L={length}: {size * columns} (canvas, "
                     f"argmax canvas, run length) states and a {size} x {size} step")
        mu = answers(denoiser, vocab_size, length)
        strides = vocab_size ** np.arange(length - 1, -1, -1)
        mass = np.zeros((size, columns))  # (canvas, (previous argmax canvas a, run length k) at a h + k - 1; last: none)
        mass[:, -1] = 1.0 / size
        out, calls = np.zeros(size), 0.0
        for n in range(1, self.steps + 1):
            q, accepted, argmax, mean_entropy = self.view(mu, self.steps - n + 1)
            a = argmax @ strides  # (N,) the argmax canvas's index
            calls += mass.sum()
            stop = stable_runs(a, h, columns) & self._confident(mean_entropy)[:, None]
            np.add.at(out, a, (mass * stop).sum(axis=1))
            mass = mass * ~stop
            alive = mass.sum(axis=1)
            if n == self.steps and not self.renoised_output:  # the last argmax canvas: every run still going
                np.add.at(out, a, alive)
                break
            rows = step_rows(np.where(accepted[..., None], q, 1.0 / vocab_size))  # (canvas, renoised canvas)
            if n == self.steps:  # the renoised canvas: every run still going
                out += alive @ rows
                break
            mass = rows.T @ advance_runs(mass, a, h)
        return out.reshape((vocab_size,) * length), float(calls)

    def sample(self, denoiser, n, rng, vocab_size, length):
        """refimpl's own draws: (outputs (n, L), decoder calls (n,))."""
        rng = validate.generator(rng)
        z = rng.integers(0, vocab_size, size=(n, length))
        history = np.full((n, max(self._history(), 1), length), -1)
        done, out, calls = np.zeros(n, dtype=bool), np.zeros((n, length), dtype=np.int64), np.zeros(n, dtype=np.int64)
        for step in range(1, self.steps + 1):
            live = np.flatnonzero(~done)
            if not live.size:
                break
            calls[live] += 1
            q, accepted, argmax, mean_entropy = self.view(np.asarray(denoiser(z[live]), dtype=np.float64),
                                                          self.steps - step + 1)
            stable = np.ones(live.size, dtype=bool) if self._history() == 0 else (
                history[live] == argmax[:, None]).all(axis=(1, 2))
            stop = stable & self._confident(mean_entropy)
            out[live] = argmax
            drawn, fresh = sample_categorical(q, rng), rng.integers(0, vocab_size, size=(live.size, length))
            z[live] = np.where(accepted, drawn, fresh)
            if step == self.steps and self.renoised_output:
                out[live[~stop]] = z[live[~stop]]
            done[live[stop | (step == self.steps)]] = True
            history[live] = np.concatenate([history[live, 1:], argmax[:, None]], axis=1)
        return out, calls


COOLINGS = ("code", "documented")


@dataclasses.dataclass(frozen=True)
class UniformEntropyBound(Renoise):
    r"""DiffusionGemma's renoising step as diffusers ships it: the step of :class:`refimpl.samplers.renoise.Renoise`
    (entropy-bound acceptance of the lowest-entropy positions, a uniform redraw of the rest), with diffusers' own
    temperature cooling, stop rule and output.

    - **Cooling.** ``EntropyBoundScheduler.step`` tempers step k = 0..N-1 at
      :math:`t_{min} + (t_{max} - t_{min})(N - k)/N` (``cooling="code"``, the default): the last step runs at
      :math:`t_{min} + (t_{max} - t_{min})/N`, not at :math:`t_{min}` as its docstring says ("annealed from t_max on the
      first step down to t_min on the last").  ``cooling="documented"`` is that intent,
      :math:`t_{min} + (t_{max} - t_{min})(N - 1 - k)/(N - 1)` (one step: :math:`t_{max}`).
    - **Stop.** The pipeline's adaptive stop (with ``confidence_threshold`` set): the argmax of the tempered logits
      unchanged over the last ``stability_threshold`` steps — its history holds max(s, 1) canvases, so s = 0 acts
      as s = 1 here, unlike transformers' and dllm's — and their mean entropy below the threshold.
    - **Output.** A run that stops outputs its argmax canvas; one that runs out of its N steps (or never may stop,
      ``confidence_threshold=None``) outputs its last *renoised* canvas — the accepted draws and uniform noise
      elsewhere — where transformers, dllm and sglang output the argmax canvas (R8's mismatch list).

    ``steps`` is the pipeline's ``num_inference_steps`` (48; the scheduler's own default is 32).  The pipeline's
    ``temperature`` does not reach this scheduler.  diffusers tempers in float32 (refimpl: float64); its sort is
    torch's (refimpl: lowest position first among equal entropies).  Not modelled: the corrector (this scheduler has
    none), EOS stops across canvases, self-conditioning (an oracle ignores it).

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_oracles import time_agnostic_oracle
    >>> from refimpl.samplers.renoise import UniformEntropyBound
    >>> sampler = UniformEntropyBound(4)
    >>> [round(sampler.temperature(r), 3) for r in (4, 3, 2, 1)]     # the code's cooling: the last step at 0.5
    [0.8, 0.7, 0.6, 0.5]
    >>> law, calls = sampler.exact_law_and_calls(time_agnostic_oracle(refimpl.datasets.coupled_pairs()), 4, 2)
    >>> round(float(law.sum()), 12)
    1.0
    """

    cooling: str = param("code", help="the temperature schedule as diffusers codes it or as its docstring says",
                         choices=COOLINGS)
    renoised_output = True

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "cooling", validate.choice(self.cooling, COOLINGS, "UniformEntropyBound cooling"))

    def temperature(self, remaining):
        """Step k = N - ``remaining``'s temperature under ``cooling``."""
        if self.cooling == "code":
            return super().temperature(remaining)
        fraction = 1.0 if self.steps == 1 else (remaining - 1) / (self.steps - 1)
        return self.min_temperature + (self.max_temperature - self.min_temperature) * fraction

    def _history(self):
        return max(self.stability_threshold, 1)
