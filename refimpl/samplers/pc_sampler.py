r"""PC-Sampler: LLaDA's decoder ranking by a position-aware calibrated confidence (issue #37, rule R11 of
SAMPLERS-2026.md; NEUIR/PC-Sampler ``src/generate.py`` ``generate_with_pc_sampler`` and ``pc_sampler_function`` at
8b106b0)."""
import dataclasses

import numpy as np

from ..core import validate
from ..core.errors import InvalidParameterError
from .kernels.ties import check_tie
from .params import LENGTH, block_length_param, documented, param, temperature_param, tie_param
from .plans import before, block_length, tile_blocks, transfer_counts
from .steps import FixedCount
from .steps.calibrated import FORMS, CalibratedTopKStep


def _frequencies(text):
    """The command line's ``--frequencies "0.5 0.3 0.2"``."""
    return tuple(float(v) for v in str(text).replace(",", " ").split())


@documented
@dataclasses.dataclass(frozen=True)
class PCSampler:
    r"""PC-Sampler's ``generate_with_pc_sampler``: LLaDA's semi-autoregressive blocks, ``steps`` divided over them and
    each block's masks split evenly over its steps (the remainder first); each step (one call) draws a token at every
    position by Gumbel-max at ``temperature``, with p its untempered probability, and keeps the k highest scores

    .. math::  e^{-\lambda j}\,\min(\alpha,\ -p \log(f(v) + 10^{-9}))

    (:math:`\lambda` = ``lam``, :math:`\alpha` = ``clip``)

    among the block's masked positions — j the position's offset from the block's first position, f the background
    token frequencies ``frequencies`` (default uniform 1/V; the code reads a corpus table, unseen tokens 1/V).
    ``form="readme"``: the README's reading, :math:`+p \log f` and j from the end of the prompt (the same as the code
    with one block).  Ties (frequent at the clip alpha): ``tie`` (``torch.topk`` gives none).  Defaults are the
    function's (lambda 1, alpha 1); its ``eval.py`` uses 0.25 and 10.  Not modelled: ``remasking="random"``, guidance.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.pc_sampler import PCSampler
    >>> p = refimpl.datasets.coupled_pairs()
    >>> float(refimpl.kl(p, refimpl.exact_law(refimpl.oracle_denoiser(p), PCSampler(2, temperature=1.0), 2, 4)))
    0.0
    """

    steps: int = param(help="steps, divided evenly over the blocks", cli_default=LENGTH)
    block_length: object = block_length_param()
    lam: float = param(1.0, help="the positional decay: scores times exp(-lam x offset)")
    clip: float = param(1.0, help="the clip of the calibrated confidence (the code's alpha)")
    frequencies: object = param(None, help="background token frequencies f, V numbers (default uniform)",
                                convert=_frequencies)
    temperature: float = temperature_param(0.0)
    form: str = param("code", help="the score as the code computes it, or as the README writes it", choices=FORMS)
    tie: str = tie_param()

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (a frozen dataclass)
        set_("steps", validate.integer(self.steps, "PCSampler steps", 1))
        block_length(self.block_length, "PCSampler")
        set_("lam", validate.number(self.lam, "PCSampler lam"))
        set_("clip", validate.number(self.clip, "PCSampler clip"))
        if self.frequencies is not None:
            f = np.asarray(self.frequencies, dtype=np.float64)
            if f.ndim != 1 or not f.size or not np.all(np.isfinite(f)) or np.any(f < 0):
                raise InvalidParameterError(f"PCSampler frequencies must be V numbers >= 0, got {self.frequencies!r}")
            set_("frequencies", tuple(float(v) for v in f))
        set_("temperature", validate.temperature(self.temperature))
        validate.choice(self.form, FORMS, "PCSampler form")
        check_tie(self.tie, "PCSampler")

    def table(self, vocab_size):
        """f as V numbers (uniform 1/V by default); refuses a table of another length."""
        if self.frequencies is None:
            return (1.0 / vocab_size,) * vocab_size
        if len(self.frequencies) != vocab_size:
            raise InvalidParameterError(f"PCSampler frequencies has {len(self.frequencies)} numbers, not V = "
                                        f"{vocab_size}")
        return self.frequencies

    def guide(self, denoiser, prompt, vocab_size):
        """No change to the model; checks ``frequencies`` against V (the plan does not know V)."""
        self.table(vocab_size)
        return denoiser

    def plan(self, masked, region):
        blocks = tile_blocks(masked, region, self.block_length, "PCSampler")
        if not blocks:
            return []
        if self.steps % len(blocks):
            raise InvalidParameterError(f"PCSampler: steps {self.steps} must be a multiple of the number of blocks "
                                        f"{len(blocks)}")
        per_block, prompt_end = self.steps // len(blocks), blocks[0][0]
        plan = []
        for start, end in blocks:
            eligible = tuple(bool(e) and i >= start for i, e in enumerate(before(len(masked), end, region)))
            origin = start if self.form == "code" else prompt_end
            for k in transfer_counts(int(np.sum(masked[start:end])), per_block):
                plan.append(CalibratedTopKStep(eligible, FixedCount(k), self.temperature, "drawn", False, tie=self.tie,
                                               frequencies=self.frequencies or (), lam=self.lam,
                                               alpha=self.clip, origin=origin, form=self.form))
        return plan
