r"""The usual slips of a sampler family, each with its exact law: what :func:`refimpl.testing.assert_sampler_matches`
tries against a failing sample (which slip the sample fits) and checks before sampling (which slip this setting
cannot see: a blind spot).

A slip is a small change a hand-written decoding loop makes by mistake, computed exactly as refimpl's law of the
changed loop — over the clean sequences, plus the probability that the output still holds a mask (a loop that
commits fewer tokens than it has masks leaves some):

- **steps off by one** ("one step too many", "one step too few"): the sampler's ``steps`` one more or one fewer (per
  block, for LLaDA's blocks);
- **tokens per step off by one** ("one token per step too many/few"): random-k's ``tokens_per_step``;
- **temperature twice**: the logits divided by T before a draw that divides by T again — the law of the same
  sampler on the tempered model :math:`\mu^{1/T}`;
- **temperature not at all**: T = 1 instead of the sampler's T;
- **confidence from tempered probabilities** (LLaDA, Fast-dLLM's threshold and factor rules, which rank by the
  untempered probability): draw and confidence from :math:`\mu^{1/T}` — the sampler at T = 1 on the tempered model;
- **the other tie rule** (ranking samplers): ``tie="highest"`` or ``"lowest"`` instead;
- **the other time grid** (float32 for float64 and back): MDLM's, Dream's and ReMDM's times;
- **the block's end off by one** (LLaDA, "one position late/early"): the ranking's cutoff one position late or early
  (:func:`refimpl.testing.loops.llada_loop_law`);
- **the mask column in the softmax** (LLaDA, when the model has a finite mask logit: a torch loop through
  :func:`refimpl.interop.torch_adapters.from_torch_sampler`): a drawn mask can be committed.
"""
import dataclasses

import numpy as np

from ..core.errors import RefimplError
from ..engine.problem import problem
from ..engine.runner import run
from ..samplers.kernels.tokens import temper
from ..samplers.plans import tile_blocks
from .loops import llada_loop_law

SMALL = 4096  # slips are tried when V^L is at most this
SAME = 1e-9  # a slip whose law is within this TV of the correct one cannot be seen
UNTEMPERED = ("LLaDA", "Threshold", "Factor")  # families that rank by the untempered probability


@dataclasses.dataclass(frozen=True)
class Slip:
    """A slip: ``name`` (what the loop got wrong), ``law`` (V,)*L of its clean outputs, ``left`` the probability that
    its output holds a mask, ``patterns`` (when known) where."""

    name: str
    law: np.ndarray
    left: float
    patterns: np.ndarray | None = None  # (2^L,): masks left exactly at each pattern's positions (bit i: position i)

    def outcomes(self, fine=False):
        """Its law on the clean sequences and "masks left" — one outcome, or (``fine``, when it knows them) one per
        pattern of positions left masked."""
        return np.append(self.law.ravel(), self.patterns if fine else self.left)

    def tv(self, law):
        """Total variation from a law of clean outputs (``law``), "masks left" counted as an outcome."""
        return 0.5 * (float(np.abs(self.law - law).sum()) + self.left)


class Tempered:
    r"""The model :math:`\mu^{1/T}` (renormalised): a loop that divides the logits by T once more than it should."""

    def __init__(self, denoiser, temperature):
        self.denoiser, self.temperature = denoiser, temperature

    def __call__(self, z):
        return temper(np.asarray(self.denoiser(z), dtype=np.float64), self.temperature)

    def __repr__(self):
        return f"Tempered({self.denoiser!r}, T={self.temperature:g})"


def _law(sampler, denoiser, length, vocab_size, prompt):
    law = run(problem(denoiser, sampler, length, vocab_size, prompt)).law
    return law, max(0.0, 1.0 - float(law.sum()))


def _variants(sampler, denoiser, length, vocab_size, prompt):
    """``[(name, sampler, denoiser)]``: the slips refimpl's own samplers express."""
    fields = {f.name for f in dataclasses.fields(sampler)}
    kind = type(sampler).__name__
    out = []
    if "steps" in fields:
        unit = 1
        if kind == "LLaDA":
            masked = np.ones(length, bool) if prompt is None else np.asarray(prompt) == vocab_size
            unit = max(1, len(tile_blocks(masked, np.ones(length, bool), sampler.block_length, kind)))
        for steps, which in ((sampler.steps + unit, "many"), (sampler.steps - unit, "few")):
            if steps >= 1:
                out.append((f"one step too {which}{' per block' if unit > 1 else ''} (steps={steps})",
                            dataclasses.replace(sampler, steps=steps), denoiser))
    if isinstance(getattr(sampler, "tokens_per_step", None), int):
        for k, which in ((sampler.tokens_per_step + 1, "many"), (sampler.tokens_per_step - 1, "few")):
            if k >= 1:
                out.append((f"one token per step too {which} (tokens_per_step={k})",
                            dataclasses.replace(sampler, tokens_per_step=k), denoiser))
    temperature = getattr(sampler, "temperature", None)
    if temperature is not None:
        if temperature not in (0.0, 1.0):
            out.append((f"temperature applied twice (logits / T / T, T={temperature:g})", sampler,
                        Tempered(denoiser, temperature)))
        if temperature != 1.0:
            out.append(("temperature not applied (T=1)", dataclasses.replace(sampler, temperature=1.0), denoiser))
        if kind in UNTEMPERED and temperature not in (0.0, 1.0) and getattr(sampler, "remasking", "") != "random":
            out.append(("confidence from tempered probabilities (softmax(logits / T), not softmax(logits))",
                        dataclasses.replace(sampler, temperature=1.0), Tempered(denoiser, temperature)))
    if isinstance(getattr(sampler, "tie", None), str) and sampler.tie != "exclude":
        for tie in ("lowest", "highest"):
            if tie != sampler.tie:
                out.append((f"the other tie rule (tie={tie!r})", dataclasses.replace(sampler, tie=tie), denoiser))
    if getattr(sampler, "grid", None) in ("float64", "float32"):
        other = "float32" if sampler.grid == "float64" else "float64"
        out.append((f"the other time grid (grid={other!r})", dataclasses.replace(sampler, grid=other), denoiser))
    return out


def _plain_llada(sampler):
    return (type(sampler).__name__ == "LLaDA" and sampler.remasking == "low_confidence" and sampler.cfg_scale == 0
            and not sampler.logits_eos_inf and not sampler.confidence_eos_eot_inf and sampler.tie == "lowest"
            and sampler.precision == "float64" and sampler.confidence_precision == "float64")


def usual_slips(sampler, denoiser, length, vocab_size, prompt=None, mask_logit=None):
    """``(slips, notes)``: every usual slip of ``sampler``'s family that applies here, each a :class:`Slip` with its
    exact law, and a note for each slip that could not be tried (and why).  ``mask_logit``: the finite mask logit of
    the model the loop under test reads (a torch loop's), else None (no mask column).  Nothing is tried when V^L
    exceeds :data:`SMALL`."""
    if vocab_size ** length > SMALL:
        return [], [f"the usual slips are tried for V^L <= {SMALL} only (here {vocab_size}^{length})"]
    slips, notes = [], []
    for name, changed, model in _variants(sampler, denoiser, length, vocab_size, prompt):
        try:
            slips.append(Slip(name, *_law(changed, model, length, vocab_size, prompt)))
        except RefimplError as error:
            notes.append(f"{name}: not tried ({error})")
    if _plain_llada(sampler):
        loop = dict(steps=sampler.steps, block_length=sampler.block_length, temperature=sampler.temperature)
        tries = [("the block's end one position late (ranking cutoff at end + 1)", dict(boundary=1)),
                 ("the block's end one position early (ranking cutoff at end - 1)", dict(boundary=-1))]
        if mask_logit is not None and np.isfinite(mask_logit):
            tries.append((f"the mask column left in the softmax (mask logit {mask_logit:g})", dict(mask_logit=mask_logit)))
        for name, change in tries:
            try:
                law, patterns = llada_loop_law(denoiser, vocab_size, length, prompt, **loop, **change)
                slips.append(Slip(name, law, float(patterns.sum()), patterns))
            except RefimplError as error:
                notes.append(f"{name}: not tried ({error})")
    if _plain_llada(sampler) and mask_logit is not None and not np.isfinite(mask_logit):
        notes.append("the mask column left in the softmax cannot show: the model's mask logit is -inf "
                     "(from_torch_sampler(loop, mask_logit=0.0) shows it)")
    return slips, notes


def blind_spots(slips, law):
    """The slips whose law is within :data:`SAME` (TV) of ``law``: this setting cannot see them."""
    return [slip for slip in slips if slip.tv(law) <= SAME]
