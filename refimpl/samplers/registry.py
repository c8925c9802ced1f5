r"""The sampler families, one entry each: the one name every part of refimpl spells it by, its class, a summary.

The command line (``refimpl law --sampler NAME``, its flags from the class's fields: :mod:`refimpl.samplers.params`),
:func:`refimpl.testing.sampler`, the hypothesis strategies, sweep specs (``family = NAME``), the frontier, the golden
vectors and the test case table (:mod:`refimpl.samplers.cases`) read this registry; ``tests/samplers/test_registry.py``
fails when a registered family lacks any of them.  Adding a family: its module with a frozen dataclass and ``plan``,
an entry here, its step if it needs a new one, its original's loop in tests/originals.py, a case row, a proof if it
has a theorem (CONTRIBUTING.md).  Older spellings stay accepted as aliases (the class name, as sweep specs wrote it
before issue #34, and ``fixed``, the command line's name for ``fixed_order``).
"""
import dataclasses

from ..core.errors import InvalidParameterError
from .ancestral import Ancestral, FirstHitting
from .anchored import HierarchyBlock, ShiftConfidence
from .bernoulli import Bernoulli
from .blocks import FixedOrder, LeftToRight, SemiAR
from .dllm_mdlm import DllmMDLM
from .dream import Dream
from .entropy_bound import EntropyBound
from .entropy_threshold import EntropyThreshold
from .fast_dllm import Factor, Threshold
from .info_gain import InfoGain
from .joint_threshold import JointThreshold
from .llada import LLaDA
from .llada2 import LLaDA2
from .low_confidence import LowConfidence
from .multi_block import MultiBlock
from .nemotron import Nemotron
from .params import Parameter, counts, parameters
from .pc_sampler import PCSampler
from .random_k import RandomK
from .random_sizes import RandomSizes
from .remdm import ReMDM
from .speculative import LinearSpec


@dataclasses.dataclass(frozen=True)
class Family:
    """A sampler family: ``name`` (snake_case, the one spelling), ``cls`` (its frozen dataclass), ``summary``
    (one line: whose semantics), ``aliases`` (older spellings still accepted), ``extra`` (command-line forms of
    fields that have none of their own, :class:`refimpl.samplers.params.Parameter`), ``originals`` (``(field, name)``
    pairs: what the original's code calls a field; docs/testing.md's table of families is generated from them)."""

    name: str
    cls: type
    summary: str
    aliases: tuple = ()
    extra: tuple = ()
    originals: tuple = ()  # (field, what the original calls it): the names a torch engineer reads in its code

    def parameters(self) -> list:
        """Every command-line parameter of the family, in field order."""
        own = {p.field: p for p in parameters(self.cls)} | {p.field: p for p in self.extra}
        return [own[f.name] for f in dataclasses.fields(self.cls) if f.name in own]

    def build(self, **params) -> object:
        """``cls(**params)``, an unknown or missing parameter refused naming the family's parameters."""
        known = [f.name for f in dataclasses.fields(self.cls)]
        unknown = [k for k in params if k not in known]
        if unknown:
            raise InvalidParameterError(f"{self.name} has no parameter {unknown[0]!r} (its parameters: "
                                        f"{', '.join(known) or 'none'})")
        missing = [f.name for f in dataclasses.fields(self.cls) if f.name not in params
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        if missing:
            raise InvalidParameterError(f"{self.name} needs {', '.join(missing)}")
        return self.cls(**params)


def _semi_ar_inner(text):
    """The command line's SemiAR: blocks decoded by random-k with ``--tokens-per-step``."""
    return RandomK(counts(text))


FAMILIES = {family.name: family for family in (
    Family("left_to_right", LeftToRight, "autoregressive order: the leftmost masked position each step"),
    Family("ancestral", Ancestral, "MDLM's ancestral sampler (kuleshov-group/mdlm, _ddpm_update / ddpm_cache)",
           originals=(("schedule", "noise (config)"), ("steps", "sampling.steps"), ("eps", "the grid's end, eps"),
                      ("noise_removal", "sampling.noise_removal"), ("cache", "sampling.predictor=ddpm_cache"))),
    Family("llada", LLaDA, "LLaDA's generate: blocks, low-confidence or random remasking, guidance, EOS rules "
                           "(GSAI-ML/LLaDA)",
           originals=(("steps", "generate(steps=)"), ("block_length", "generate(block_length=)"),
                     ("temperature", "generate(temperature=), add_gumbel_noise"), ("remasking", "generate(remasking=)"),
                     ("cfg_scale", "generate(cfg_scale=)"), ("logits_eos_inf", "generate(logits_eos_inf=)"),
                     ("confidence_eos_eot_inf", "generate(confidence_eos_eot_inf=)"), ("eos", "126081 in the code"),
                     ("eot", "126348 in the code"), ("tie", "torch.topk's order"),
                     ("precision", "add_gumbel_noise's float64"), ("confidence_precision", "F.softmax's dtype"))),
    Family("dream", Dream, "Dream's diffusion_generate: origin or confidence algorithms, top_p/top_k, alg_temp "
                           "(Dream-org/Dream)",
           originals=tuple((f, f"DreamGenerationConfig.{f}") for f in ("steps", "alg", "temperature", "eps", "top_p",
                                                                         "top_k", "alg_temp"))),
    Family("threshold", Threshold, "Fast-dLLM's confidence threshold (NVlabs/Fast-dLLM get_transfer_index)",
           originals=(("threshold", "generate(threshold=)"), ("block_length", "generate(block_length=)"),
                      ("temperature", "generate(temperature=)"))),
    Family("factor", Factor, "Fast-dLLM's factor rule (NVlabs/Fast-dLLM get_transfer_index_dynamic)",
           originals=(("factor", "generate(factor=)"), ("block_length", "generate(block_length=)"),
                      ("temperature", "generate(temperature=)"))),
    Family("entropy_bound", EntropyBound, "the EB-Sampler: the lowest-entropy prefix within a budget"),
    Family("entropy_threshold", EntropyThreshold, "d3LLM's entropy threshold as sglang's EntropyThreshold ships it "
                                                  "(sgl-project/sglang dllm/algorithm/entropy_threshold.py)",
           originals=(("threshold", "algorithm_config threshold (d3LLM: threshold)"),
                      ("block_length", "DllmConfig block_size (d3LLM: block_length)"),
                      ("temperature", "d3LLM's temperature (sglang: argmax always)"),
                      ("tie", "torch.topk(largest=False)'s order"))),
    Family("multi_block", MultiBlock, "d3LLM's multi-block parallel decoding as sglang's FullAttnMultiBlock ships it "
                                      "(sgl-project/sglang dllm/algorithm/full_attn_multi_block.py)",
           originals=(("threshold", "algorithm_config threshold"), ("block_length", "DllmConfig block_size"),
                      ("block_add_threshold", "algorithm_config block_add_threshold"),
                      ("decoded_token_threshold", "algorithm_config decoded_token_threshold"),
                      ("temperature", "d3LLM's temperature (sglang: argmax always)"),
                      ("tie", "torch.argmin's first index (d3LLM's LLaDA: and torch.topk(largest=False))"))),
    Family("remdm", ReMDM, "ReMDM: MDLM's step with remasking, cap/rescale/conf/loop (kuleshov-group/remdm)",
           originals=(("steps", "sampling.steps"), ("remasking", "sampling.sampler=remdm-<remasking>"),
                      ("eta", "sampling.eta"), ("noise_removal", "sampling.noise_removal"), ("t_on", "sampling.t_on"),
                      ("t_off", "sampling.t_off"), ("alpha_on", "sampling.alpha_on"))),
    Family("llada2", LLaDA2, "LLaDA 2.x block refinement with editing (diffusers' LLaDA2Pipeline)",
           originals=(("steps", "num_inference_steps"), ("block_length", "block_length"), ("threshold", "threshold"),
                      ("editing_threshold", "editing_threshold"), ("max_post_steps", "max_post_steps"),
                      ("minimal_topk", "minimal_topk"), ("temperature", "temperature"),
                      ("tie", "torch.topk's order"))),
    Family("joint_threshold", JointThreshold, "LLaDA2.1's joint threshold decoding with edits as sglang's JointThreshold "
                                              "ships it (sgl-project/sglang dllm/algorithm/joint_threshold.py)",
           originals=(("threshold", "algorithm_config threshold (generate: threshold)"),
                      ("edit_threshold", "edit_threshold (generate: editing_threshold)"),
                      ("max_post_edit_steps", "max_post_edit_steps (generate: max_post_steps)"),
                      ("block_length", "DllmConfig block_size (generate: block_length)"),
                      ("penalty_lambda", "penalty_lambda"), ("num_to_transfer", "generate: num_to_transfer"),
                      ("temperature", "generate: temperature (sglang: argmax always)"),
                      ("tie", "torch.topk's order"))),
    Family("hierarchy_block", HierarchyBlock, "Fast-dLLM v2's hierarchical blocks with AR anchors and token shift as "
                                              "sglang's HierarchyBlock ships them (dllm/algorithm/hierarchy_block.py)",
           originals=(("threshold", "algorithm_config threshold (generate: threshold)"),
                      ("block_length", "DllmConfig block_size (generate: block_size)"),
                      ("sub_block_length", "sub_block_size (generate: small_block_size)"),
                      ("temperature", "generate: temperature (sglang: argmax always)"), ("top_p", "generate: top_p"),
                      ("tie", "argmax's first index"))),
    Family("shift_confidence", ShiftConfidence, "openPangu-Diffusion's shift-confidence decoding as sglang's "
                                                "ShiftConfidence ships it (dllm/algorithm/shift_confidence.py)",
           originals=(("threshold", "algorithm_config threshold"), ("block_length", "DllmConfig block_size"),
                      ("num_small_blocks", "num_small_blocks"), ("alg", "alg"), ("tie", "torch.max's first index"))),
    Family("linear_spec", LinearSpec, "Nemotron-Labs-Diffusion's self-speculation as sglang's LinearSpec ships it "
                                      "(dllm/algorithm/linear_spec.py): greedy autoregressive output, 2 calls a round",
           originals=(("block_length", "DllmConfig block_size"),)),
    Family("nemotron", Nemotron, "Nemotron-Labs-Diffusion's AR-anchored blocks as dllm's NemotronDiffusionSampler runs "
                                 "them (pipelines/nemotron_diffusion/sampler.py), or sglang's FastDiffuser",
           originals=(("threshold", "threshold"), ("block_length", "block_length (sglang: DllmConfig block_size)"),
                      ("temperature", "temperature"), ("max_steps", "FastDiffuser: max_steps"),
                      ("tie", "torch.topk's order"))),
    Family("low_confidence", LowConfidence, "threshold decoding as sglang's LowConfidence ships it, with its per-request "
                                            "sampling (dllm/algorithm/low_confidence.py, dllm/sampling.py); the vLLM "
                                            "dllm-plugin's LLaDA2.0 default with final_call=False",
           originals=(("threshold", "algorithm_config threshold (vLLM plugin: commit_confidence_threshold)"),
                      ("block_length", "DllmConfig block_size (vLLM plugin: DRAFT_SIZE)"),
                      ("temperature", "the request's temperature (DllmSamplingPlan)"), ("tie", "torch.topk's order"))),
    Family("dllm_mdlm", DllmMDLM, "dllm's MDLM sampler: LLaDA's selection, step counts from an alpha schedule, the "
                                  "empty steps skipped (ZHZisZZ/dllm dllm/core/samplers/mdlm.py)",
           originals=(("steps", "steps"), ("block_length", "block_size"), ("temperature", "temperature"),
                      ("remasking", "remasking"), ("alpha_schedule", "the sampler's alpha scheduler"),
                      ("stochastic", "stochastic_transfer"),
                      ("tie", "torch.topk's order"))),
    Family("pc_sampler", PCSampler, "PC-Sampler: LLaDA's decoder ranking by position-aware calibrated confidence "
                                    "(NEUIR/PC-Sampler src/generate.py)",
           originals=(("steps", "steps"), ("block_length", "block_length"), ("lam", "lambd"), ("clip", "alpha"),
                      ("frequencies", "the baseline JSON (BASE_LINE)"), ("temperature", "temperature"),
                      ("tie", "torch.topk's order"))),
    Family("info_gain", InfoGain, "the Info-Gain and LookUM lookahead samplers at token temperature 0 "
                                  "(yks23/Information-Gain-Sampler src/samplers/info_gain.py)",
           originals=(("steps", "steps"), ("block_length", "block_size"), ("candidates", "candidate_number"),
                      ("position_temperature", "position_temperature"), ("threshold", "threshold"),
                      ("variant", "variant"), ("tie", "torch.topk's order"),
                      ("original", "the standalone sampler or dllm's InfoGainLLaDASampler"))),
    Family("first_hitting", FirstHitting, "one uniformly random masked position per step (first-hitting sampler)"),
    Family("bernoulli", Bernoulli, "Wainwright's Bernoulli-subset sampler on a grid of reveal times, with exact or "
                                   "product-step ends (arXiv 2608.13520, (9b)-(14b))"),
    Family("random_k", RandomK, "k uniformly random masked positions per step"),
    Family("random_sizes", RandomSizes, "random-order decoding with step sizes drawn independently of the tokens "
                                        "(Zhao and Cai's class)"),
    Family("semi_ar", SemiAR, "blocks from the left, each decoded completely by an inner sampler",
           extra=(Parameter("inner", "tokens_per_step", "the command line's inner sampler: random-k with this many "
                            "tokens per step", _semi_ar_inner, None, RandomK(1)),)),
    Family("fixed_order", FixedOrder, "given sets of positions, one set per step", aliases=("fixed",)),
)}
NAMES = tuple(FAMILIES)


def family(name: str) -> Family:
    """The family called ``name``: its name, an alias, or its class's name.

    Parameters
    ----------
    name : str
        A family's name, an alias or its class's name.

    Returns
    -------
    Family

    Examples
    --------
    >>> from refimpl import samplers
    >>> samplers.family("fixed").name, samplers.family("LLaDA").name        # an old spelling, a class name
    ('fixed_order', 'llada')
    """
    if isinstance(name, str):
        if name in FAMILIES:
            return FAMILIES[name]
        for entry in FAMILIES.values():
            if name in entry.aliases or name == entry.cls.__name__:
                return entry
    raise InvalidParameterError(f"sampler family must be one of {', '.join(NAMES)}, got {name!r}")


def family_of(sampler: object) -> Family:
    """The registered family of a sampler object.

    Parameters
    ----------
    sampler : object
        A sampler.

    Returns
    -------
    Family

    Examples
    --------
    >>> from refimpl import samplers
    >>> samplers.family_of(samplers.Threshold(0.5)).summary
    "Fast-dLLM's confidence threshold (NVlabs/Fast-dLLM get_transfer_index)"
    """
    for entry in FAMILIES.values():
        if type(sampler) is entry.cls:
            return entry
    raise InvalidParameterError(f"{type(sampler).__name__} is not a registered sampler family ({', '.join(NAMES)})")


def build(name: str, **params) -> object:
    """The sampler of family ``name`` with ``params``, validated by it.

    Parameters
    ----------
    name : str
        A family's name (:data:`NAMES`), an alias or its class's name.
    **params
        The family's parameters.

    Returns
    -------
    object
        The sampler.

    Examples
    --------
    >>> from refimpl import samplers
    >>> samplers.build("random_k", tokens_per_step=2)
    RandomK(tokens_per_step=2, temperature=1.0)
    """
    return family(name).build(**params)
