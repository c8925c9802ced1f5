r"""diffusers' ``DiscreteDDIMScheduler`` (0.42.1, ``schedulers/scheduling_discrete_ddim.py``; rule R9 of
SAMPLERS-2026.md) on a model without a mask, ``step`` and ``step_correct`` as ``DiffusionGemmaPipeline`` drives them,
with the exact law and expected calls (issue #38, build 4)."""
import dataclasses
import itertools

import numpy as np
from scipy.special import entr, logsumexp

from ..core import validate
from ..core.errors import InvalidParameterError
from ..core.memory import check_memory
from ..core.numerics import sample_categorical
from ..engine.uniform_chain import advance_runs, answers, canvases, run_columns, stable_runs, step_rows
from .kernels.subsets import _chosen_probability
from .kernels.tokens import temper
from .params import optional_float, param, temperature_param
from .plans import per_call

SELECTIONS = ("lowest_log_margin", "lowest_maxprob", "lowest_current_prob", "random")


@dataclasses.dataclass(frozen=True)
class DiscreteDDIM:
    r"""Ancestral steps of the uniform corruption process as diffusers' ``DiscreteDDIMScheduler.step`` takes them,
    from a uniformly random canvas, ``steps`` model calls in all (the pipeline's ``num_inference_steps``: 48; the
    scheduler's default is 32).

    **Predictor.** With c = ``corrector_steps`` the pipeline runs :math:`N_p = N - \lfloor (N-1)/(1+c) \rfloor c`
    predictor steps (all N when c = 0).  Step k = 0..N_p-1 has :math:`\alpha_t = k/N_p`, :math:`\alpha_s = (k+1)/N_p`,
    a = :math:`\alpha_t/\alpha_s`, b = :math:`\alpha_s`.  Every position draws :math:`\hat x_i` — the argmax at
    ``temperature`` 0 (first on ties), else from softmax(logits / T) — and then a route with probabilities
    proportional to clean :math:`b(1-a)/V + ab[z_i = \hat x_i]`, stay :math:`a(1-b)/V`, noise
    :math:`(1-a)(1-b)/V`: clean takes :math:`\hat x_i`, stay keeps :math:`z_i`, noise a uniform token — the posterior
    :math:`q(x_s \mid x_t, x_0 = \hat x)` (:func:`refimpl.diffusion.uniform.posterior`); the last step (b = 1)
    commits :math:`\hat x`.

    **Corrector** (``step_correct``, arXiv 2605.22765): after each of the first :math:`\lfloor (N-1)/(1+c) \rfloor`
    predictor steps, c sweeps, each one model call on the current canvas at :math:`\alpha_s`: the logits turned into
    the leave-one-out posterior (:math:`\log(1 + V\alpha_s/(1-\alpha_s))` off the current token), the one-coordinate
    conditional :math:`\mathrm{cond}_i = \alpha_s\,\mathrm{loo}_i + (1-\alpha_s)/V`, ``corrector_k`` positions drawn
    by Gumbel-top-k of a badness / ``corrector_selection_tau`` (``lowest_log_margin``: minus the log margin of the
    current token over the best other; ``lowest_maxprob``; ``lowest_current_prob``; ``random``: a uniform k-subset)
    — k draws without replacement by softmax (Plackett-Luce) — and each chosen position redrawn from its
    conditional, the others held.  The scheduler's docstring says a sweep "preserves p_s"; a selection that reads the
    current token does not (tests/samplers/test_discrete_ddim.py measures it); ``random`` does.

    **Stop** (the pipeline's ``confidence_threshold``; its default is 0.005, refimpl's None runs every call): after
    a predictor step and its sweeps, a run whose argmax of the predictor's logits equals those of the last max(s, 1)
    steps and whose mean entropy is below the threshold outputs that argmax canvas.  The output is otherwise the
    canvas after the last step.  State: the canvas, and with a stop the last argmax canvas and how many steps in a
    row it has held (up to max(s, 1)).

    diffusers forms the route probabilities in float32 (the corrector in float64); refimpl's are float64.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.diffusion.uniform_oracles import uniform_oracle
    >>> from refimpl.samplers.discrete_ddim import DiscreteDDIM
    >>> p = refimpl.datasets.product([[0.9, 0.1], [0.2, 0.8]])     # two independent tokens
    >>> law = DiscreteDDIM(4, temperature=1.0).exact_law(uniform_oracle(p, 0.5), 2, 2)
    >>> round(float(law.sum()), 12)
    1.0
    >>> DiscreteDDIM(8, corrector_steps=2).alphas()     # 4 predictor steps, the first two each with 2 sweeps
    [0.0, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.75]
    """

    steps: int = param(32, help="model calls in all (num_inference_steps; the sweeps come out of it)")
    temperature: float = temperature_param(0.0)
    corrector_steps: int = param(0, help="corrector sweeps after each of the first predictor steps (step_correct)")
    corrector_k: int = param(1, help="positions each sweep redraws")
    corrector_selection: str = param("lowest_log_margin", help="how a sweep picks its positions", choices=SELECTIONS)
    corrector_selection_tau: float = param(1.0, help="the temperature of the sweep's Gumbel-top-k selection")
    confidence_threshold: "float | None" = param(None, help="the pipeline's stop: mean entropy below this with the "
                                                             "argmax canvas unchanged ('none': every call)",
                                                 convert=optional_float)
    stability_threshold: int = param(1, help="the stop's history: max(this, 1) argmax canvases")

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("steps", validate.integer(self.steps, "DiscreteDDIM steps", 1))
        set_("temperature", validate.temperature(self.temperature, "DiscreteDDIM temperature"))
        set_("corrector_steps", validate.integer(self.corrector_steps, "DiscreteDDIM corrector_steps", 0))
        set_("corrector_k", validate.integer(self.corrector_k, "DiscreteDDIM corrector_k", 0))  # (0 acts as 1)
        set_("corrector_selection", validate.choice(self.corrector_selection, SELECTIONS, "corrector_selection"))
        set_("corrector_selection_tau", validate.number(self.corrector_selection_tau, "corrector_selection_tau"))
        if self.corrector_selection_tau <= 0:
            raise InvalidParameterError(f"corrector_selection_tau must be > 0, got {self.corrector_selection_tau}")
        if self.confidence_threshold is not None:
            set_("confidence_threshold", validate.nonnegative(self.confidence_threshold,
                                                              "DiscreteDDIM confidence_threshold"))
        set_("stability_threshold", validate.integer(self.stability_threshold, "DiscreteDDIM stability_threshold", 0))

    def schedule(self):
        """(predictor steps N_p, the number of them followed by corrector sweeps)."""
        corrected = (self.steps - 1) // (1 + self.corrector_steps) if self.corrector_steps else 0
        return self.steps - corrected * self.corrector_steps, corrected

    def calls(self):
        """[(k, kind)] in call order: ("predict", then "correct" c times after the first steps)."""
        predictors, corrected = self.schedule()
        out = []
        for k in range(predictors):
            out += [(k, "predict")] + [(k, "correct")] * (self.corrector_steps if k < corrected else 0)
        return out

    def alphas(self):
        """alpha at each call: k/N_p for predictor step k, (k+1)/N_p for its sweeps — what a model told the time gets."""
        predictors, _ = self.schedule()
        return [(k + (kind == "correct")) / predictors for k, kind in self.calls()]

    def routes(self, k):
        """(a, b) of predictor step k: the survival from s to t and alpha_s."""
        predictors, _ = self.schedule()
        alpha_t, alpha_s = k / predictors, (k + 1) / predictors
        return alpha_t / alpha_s, alpha_s

    def factors(self, k):
        """Predictor step k as a function of (mu (N, L, V), z (N, L)) -> every position's next-token law (N, L, V)."""
        a, b = self.routes(k)

        def step(mu, z):
            vocab_size = mu.shape[-1]
            q = temper(mu, self.temperature)  # the law of x_hat
            seen = np.eye(vocab_size)[z]  # (N, L, V): [z_i = v]
            clean = b * (1 - a) / vocab_size + a * b * seen  # for x_hat = v
            stay, noise = a * (1 - b) / vocab_size, (1 - a) * (1 - b) / vocab_size
            total = clean + stay + noise
            to_hat = q * clean / total  # x_hat = v and the clean route: v
            kept = (q * stay / total).sum(axis=-1, keepdims=True) * seen  # the stay route: z_i
            spread = (q * noise / total).sum(axis=-1, keepdims=True) / vocab_size  # the noise route: uniform
            return to_hat + kept + spread

        return step

    def conditional(self, mu, z, alpha_s):
        """(log cond (N, L, V), badness (N, L)): a sweep's one-coordinate conditionals and selection keys at alpha_s."""
        vocab_size = mu.shape[-1]
        seen = np.eye(vocab_size, dtype=bool)[z]
        with np.errstate(divide="ignore"):
            logits = np.log(mu)
        if 0 < alpha_s < 1:
            logits = logits - np.log1p(vocab_size * alpha_s / (1 - alpha_s)) * seen
        loo = logits - logsumexp(logits, axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):
            cond = np.logaddexp(np.log(alpha_s) + loo, np.log1p(-alpha_s) - np.log(vocab_size))
        current = np.where(seen, cond, -np.inf).max(axis=-1)
        badness = {"lowest_maxprob": -cond.max(axis=-1), "lowest_current_prob": -current,
                   "lowest_log_margin": -(current - np.where(seen, -np.inf, cond).max(axis=-1)),
                   "random": np.zeros(z.shape)}[self.corrector_selection]
        return cond, badness / self.corrector_selection_tau

    def sweep(self, alpha_s):
        """A corrector sweep as (mu, z) -> [(weight (N,), factors (N, L, V))]: a mixture over the chosen sets."""
        def components(mu, z):
            cond, keys = self.conditional(mu, z, alpha_s)
            length, vocab_size = z.shape[1], mu.shape[-1]
            held, k = np.eye(vocab_size)[z], min(max(1, self.corrector_k), length)
            out = []
            for chosen in itertools.combinations(range(length), k):
                weight = _chosen_probability(keys.T, list(chosen))  # (Gumbel-top-k: Plackett-Luce)
                factors = held.copy()
                factors[:, list(chosen)] = np.exp(cond[:, list(chosen)])
                out.append((weight, factors))
            return out

        return components

    def _sweeps(self, k):
        return self.corrector_steps if k < self.schedule()[1] else 0

    def _models(self, denoiser):
        return per_call(denoiser, len(self.calls()))

    def expected_calls(self):
        """Every call, when no stop rule is set (else :meth:`exact_law_and_calls`)."""
        return float(self.steps)

    def exact_law(self, denoiser, vocab_size, length):
        """The law of the output canvas, a table (V,)*L; ``denoiser`` one model, or a list of one per call (a model
        told the time: built at :meth:`alphas`)."""
        return self.exact_law_and_calls(denoiser, vocab_size, length)[0]

    def exact_law_and_calls(self, denoiser, vocab_size, length):
        """(the law of the output canvas, a table (V,)*L; the expected model calls)."""
        vocab_size, length = validate.space(vocab_size, length)
        size, stopping = vocab_size ** length, self.confidence_threshold is not None
        history = max(self.stability_threshold, 1) if stopping else 0  # (the pipeline keeps max(s, 1) canvases)
        previous = run_columns(size, history)
        check_memory(8 * (2 * size * size + 4 * size * previous), f"DiscreteDDIM's exact law at V={vocab_size}, "
                     f"L={length}: a {size} x {size} step on {size * previous} states")
        grid, models, alphas = canvases(vocab_size, length), self._models(denoiser), self.alphas()
        strides = vocab_size ** np.arange(length - 1, -1, -1)
        mass = np.zeros((size, previous))
        mass[:, -1] = 1.0 / size
        out, calls, asked, mu = np.zeros(size), 0.0, None, None
        for call, (k, kind) in enumerate(self.calls()):
            if models[call] is not asked:
                asked, mu = models[call], answers(models[call], vocab_size, length)
            calls += mass.sum()
            if kind == "correct":
                mass = sum(step_rows(f, w).T @ mass for w, f in self.sweep(alphas[call])(mu, grid))
                continue
            a = np.argmax(mu, axis=-1) @ strides if stopping else np.zeros(size, dtype=np.int64)
            if stopping:  # decided by this call's answers; a run that stops still runs its sweeps
                confident = entr(mu).sum(axis=-1).mean(axis=1) < self.confidence_threshold
                stop = stable_runs(a, history, previous) & confident[:, None]
                calls += self._sweeps(k) * (mass * stop).sum()
                np.add.at(out, a, (mass * stop).sum(axis=1))
                mass = mass * ~stop
            rows = step_rows(self.factors(k)(mu, grid))
            mass = rows.T @ advance_runs(mass, a, history)
        out += mass.sum(axis=1)  # (without a stop rule every run makes every call: exactly, not the masses' sum)
        return out.reshape((vocab_size,) * length), float(calls) if stopping else self.expected_calls()

    def sample(self, denoiser, n, rng, vocab_size, length):
        """refimpl's own draws of the pipeline's loop (n, L), through the same laws (with a stop rule, the calls
        are :meth:`sample_with_calls`'s)."""
        return self.sample_with_calls(denoiser, n, rng, vocab_size, length)[0]

    def sample_with_calls(self, denoiser, n, rng, vocab_size, length):
        """(outputs (n, L), model calls (n,))."""
        rng = validate.generator(rng)
        z = rng.integers(0, vocab_size, size=(n, length))
        models, alphas = self._models(denoiser), self.alphas()
        history = np.full((n, max(self.stability_threshold, 1), length), -1)
        previous, stopped, calls = np.full((n, length), -1), np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        stop_next = np.zeros(n, dtype=bool)
        for call, (k, kind) in enumerate(self.calls()):
            live = np.flatnonzero(~stopped)
            calls[live] += 1
            mu = np.asarray(models[call](z[live]), dtype=np.float64)
            if kind == "correct":
                parts = self.sweep(alphas[call])(mu, z[live])
                pick = sample_categorical(np.stack([w for w, _ in parts], axis=-1), rng)
                chosen = np.stack([f for _, f in parts])[pick, np.arange(live.size)]
                z[live] = sample_categorical(chosen, rng)
            else:
                if self.confidence_threshold is not None:
                    argmax = np.argmax(mu, axis=-1)
                    stop_next[live] = ((history[live] == argmax[:, None]).all(axis=(1, 2))
                                       & (entr(mu).sum(axis=-1).mean(axis=1) < self.confidence_threshold))
                    history[live] = np.concatenate([history[live, 1:], argmax[:, None]], axis=1)
                    previous[live] = argmax
                z[live] = sample_categorical(self.factors(k)(mu, z[live]), rng)
            next_kind = self.calls()[call + 1][1] if call + 1 < len(self.calls()) else "predict"
            if next_kind == "predict":  # the pipeline's check comes after the step's sweeps
                done = live[stop_next[live]]
                z[done], stopped[done] = previous[done], True
        return z, calls
