r"""diffusers' ``EntropyBoundScheduler`` in its mask-free mode, as ``DiffusionGemmaPipeline`` drives it (diffusers
0.42.1, ``schedulers/scheduling_entropy_bound.py`` and ``pipelines/diffusion_gemma/pipeline_diffusion_gemma.py``;
rules R8-R9 of SAMPLERS-2026.md), with its exact law and expected calls (issue #38, build 4)."""
import dataclasses

from ..core import validate
from .renoise import Renoise

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
    >>> from refimpl.samplers.entropy_bound_uniform import UniformEntropyBound
    >>> sampler = UniformEntropyBound(4)
    >>> [round(sampler.temperature(r), 3) for r in (4, 3, 2, 1)]     # the code's cooling: the last step at 0.5
    [0.8, 0.7, 0.6, 0.5]
    >>> law, calls = sampler.exact_law_and_calls(time_agnostic_oracle(refimpl.datasets.coupled_pairs()), 4, 2)
    >>> round(float(law.sum()), 12)
    1.0
    """

    cooling: str = "code"
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
