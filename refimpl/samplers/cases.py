r"""The case table of samplers: every setting the generic checks run, in one list (the way scipy.stats runs its
generic checks over one table of distributions).

Each :class:`Case` is a sampler on the test law of its ``length`` (V = 3), with a ``prompt`` or none.  Monte Carlo
draws against the exact law and their model calls against the exact expectation (tests/samplers/test_cases.py)
run every row; the rows with a ``vector`` name are the golden vectors' sampler cases (:mod:`refimpl.interop.vectors`,
schema 1: the vectors' own law, V = L = 3), in the order the file lists them.  Every registered family has rows
(tests/samplers/test_registry.py).  Rows are only ever appended: the vectors' existing cases must not change.
"""
import dataclasses

from ..diffusion.schedules import Cosine, Linear
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
from .pc_sampler import PCSampler
from .random_k import RandomK
from .random_sizes import RandomSizes
from .remdm import ReMDM
from .speculative import LinearSpec

VOCAB_SIZE = 3
PROMPT = (2, 3, 3, 3)  # a prefix prompt, as LLaDA expects (V = 3: token 3 is the mask)
INFILL = (3, 1, 3, 3)  # a clean position inside the masked ones


@dataclasses.dataclass(frozen=True)
class Case:
    """A sampler on the test law of ``length`` positions (V = 3) from ``prompt`` (None: all masked); ``vector``: its
    name among the golden vectors' sampler cases, if it is one."""

    sampler: object
    length: int = 4
    prompt: "tuple | None" = None
    vector: "str | None" = None


CASES = (
    # the golden vectors' sampler cases (V = L = 3), in the vectors file's order
    Case(Ancestral(Linear(), 3), 3, vector='Ancestral(Linear(), steps=3)'),
    Case(Ancestral(Cosine(), 4, 1e-3, True), 3, vector='Ancestral(Cosine(), steps=4, eps=0.001, noise_removal=True)'),
    Case(Ancestral(Linear(), 6, cache=True), 3, vector='Ancestral(Linear(), steps=6, cache=True)'),
    Case(FirstHitting(), 3, vector='FirstHitting()'),
    Case(RandomK(2), 3, vector='RandomK(2)'),
    Case(LLaDA(3, temperature=0.7), 3, vector='LLaDA(steps=3, temperature=0.7)'),
    Case(LLaDA(2, temperature=0.0), 3, vector='LLaDA(steps=2, temperature=0.0)'),
    Case(LLaDA(3, 1, 1.0, "random"), 3, vector="LLaDA(steps=3, block_length=1, temperature=1.0, remasking='random')"),
    Case(Dream(3, "origin", 1.0), 3, vector="Dream(steps=3, alg='origin', temperature=1.0)"),
    Case(Dream(3, "maskgit_plus", 0.8), 3, vector="Dream(steps=3, alg='maskgit_plus', temperature=0.8)"),
    Case(Dream(3, "topk_margin", 0.8), 3, vector="Dream(steps=3, alg='topk_margin', temperature=0.8)"),
    Case(Dream(3, "entropy", 0.8), 3, vector="Dream(steps=3, alg='entropy', temperature=0.8)"),
    Case(Dream(3, "maskgit_plus", 0.8, top_p=0.8, top_k=2), 3,
         vector="Dream(steps=3, alg='maskgit_plus', temperature=0.8, top_p=0.8, top_k=2)"),
    Case(Dream(3, "maskgit_plus", 0.8, alg_temp=0.5), 3,
         vector="Dream(steps=3, alg='maskgit_plus', temperature=0.8, alg_temp=0.5)"),
    Case(Dream(3, "entropy", 0.8, alg_temp=0.5), 3, vector="Dream(steps=3, alg='entropy', temperature=0.8, alg_temp=0.5)"),
    Case(Threshold(0.6, temperature=1.0), 3, vector='Threshold(threshold=0.6, temperature=1.0)'),
    Case(Threshold(0.6, 1, 1.0), 3, vector='Threshold(threshold=0.6, block_length=1, temperature=1.0)'),
    Case(Factor(1.0, temperature=1.0), 3, vector='Factor(factor=1.0, temperature=1.0)'),
    Case(LeftToRight(), 3, vector='LeftToRight()'),
    Case(SemiAR(1, RandomK(1)), 3, vector='SemiAR(block_length=1, inner=RandomK(1))'),
    Case(FixedOrder([[0, 2], [1]]), 3, vector='FixedOrder([[0, 2], [1]])'),
    Case(LLaDA(3, temperature=0.7, logits_eos_inf=True, eos=0), 3,
         vector='LLaDA(steps=3, temperature=0.7, logits_eos_inf=True, eos=0)'),
    Case(LLaDA(3, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1), 3,
         vector='LLaDA(steps=3, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1)'),
    Case(LLaDA(3, temperature=0.0, confidence_eos_eot_inf=True, eos=0, eot=1), 3,
         vector='LLaDA(steps=3, temperature=0.0, confidence_eos_eot_inf=True, eos=0, eot=1)'),
    Case(LLaDA(3, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1, eos_rule="intent"), 3,
         vector="LLaDA(steps=3, temperature=1.0, confidence_eos_eot_inf=True, eos=0, eot=1, eos_rule='intent')"),
    Case(EntropyBound(0.0), 3, vector='EntropyBound(gamma=0.0)'),
    Case(EntropyBound(0.8, temperature=1.0), 3, vector='EntropyBound(gamma=0.8, temperature=1.0)'),
    Case(ReMDM(4, "cap", eta=0.3), 3, vector="ReMDM(steps=4, remasking='cap', eta=0.3)"),
    Case(ReMDM(4, "rescale", eta=0.6, schedule=Cosine()), 3,
         vector="ReMDM(steps=4, remasking='rescale', eta=0.6, schedule=Cosine())"),
    Case(ReMDM(10, "loop", eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6), 3,
         vector="ReMDM(steps=10, remasking='loop', eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6)"),
    Case(ReMDM(4, "conf"), 3, vector="ReMDM(steps=4, remasking='conf')"),
    Case(ReMDM(5, "conf", eta=0.3, conf_sigma="cap", schedule=Cosine()), 3,
         vector="ReMDM(steps=5, remasking='conf', eta=0.3, conf_sigma='cap', schedule=Cosine())"),
    Case(LLaDA2(3, threshold=0.7, editing_threshold=0.5, temperature=1.0), 3,
         vector='LLaDA2(steps=3, threshold=0.7, editing_threshold=0.5, temperature=1.0)'),
    Case(LLaDA2(2, threshold=0.5, editing_threshold=0.3, temperature=0.0), 3,
         vector='LLaDA2(steps=2, threshold=0.5, editing_threshold=0.3, temperature=0.0)'),
    Case(LLaDA2(3, threshold=0.7, editing_threshold=0.0, temperature=1.0), 3,
         vector='LLaDA2(steps=3, threshold=0.7, editing_threshold=0.0, temperature=1.0)'),
    Case(LLaDA2(3, 1, 0.6, 0.4, max_post_steps=2, temperature=1.0, edit_rule="intent"), 3,
         vector='LLaDA2(steps=3, block_length=1, threshold=0.6, editing_threshold=0.4, max_post_steps=2, '
                "temperature=1.0, edit_rule='intent')"),
    Case(Ancestral(Linear(), 6, cache=True, grid="float64"), 3,
         vector="Ancestral(Linear(), steps=6, cache=True, grid='float64')"),
    Case(ReMDM(10, "loop", eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6, grid="float64"), 3,
         vector="ReMDM(steps=10, remasking='loop', eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6, grid='float64')"),
    Case(Dream(3, "entropy", 0.8, eps=0.25, grid="float64"), 3,
         vector="Dream(steps=3, alg='entropy', temperature=0.8, eps=0.25, grid='float64')"),
    Case(Dream(3, "entropy", 0.8, eps=0.25), 3, vector="Dream(steps=3, alg='entropy', temperature=0.8, eps=0.25)"),
    Case(LLaDA(3, temperature=0.7, precision="bfloat16"), 3, vector="LLaDA(steps=3, temperature=0.7, precision='bfloat16')"),
    Case(Ancestral(Linear(), 3, precision="bfloat16"), 3, vector="Ancestral(Linear(), steps=3, precision='bfloat16')"),
    Case(LLaDA(3, temperature=0.7), 3, (1, 3, 3), vector='LLaDA(steps=3, temperature=0.7)'),
    Case(LLaDA(2, temperature=1.0, cfg_scale=1.5), 3, (1, 3, 3), vector='LLaDA(steps=2, temperature=1.0, cfg_scale=1.5)'),
    Case(LLaDA(2, temperature=0.0, cfg_scale=0.5, logits_eos_inf=True, eos=2), 3, (1, 3, 3),
         vector='LLaDA(steps=2, temperature=0.0, cfg_scale=0.5, logits_eos_inf=True, eos=2)'),
    Case(ReMDM(4, "cap", eta=0.3), 3, (3, 0, 3), vector="ReMDM(steps=4, remasking='cap', eta=0.3)"),
    Case(LLaDA2(3, threshold=0.7, editing_threshold=0.5, temperature=1.0), 3, (1, 3, 3),
         vector='LLaDA2(steps=3, threshold=0.7, editing_threshold=0.5, temperature=1.0)'),
    # every family at several settings on the sampler tests' law (V = 3, L = 4)
    Case(Ancestral(steps=3)), Case(Ancestral(Cosine(), steps=5, eps=1e-3, noise_removal=True)),
    Case(FirstHitting()),
    Case(RandomK(2)), Case(RandomK([1, 3], temperature=0.5)),
    Case(LLaDA(4, temperature=1.0)), Case(LLaDA(3, temperature=0.7)), Case(LLaDA(4, block_length=2, temperature=0.5)),
    Case(LLaDA(4, block_length=2, temperature=1.0, remasking="random")), Case(LLaDA(2, temperature=0.0)),
    Case(Dream(3, "origin", temperature=1.0)), Case(Dream(3, "maskgit_plus", temperature=0.8)),
    Case(Dream(2, "topk_margin", temperature=1.0)), Case(Dream(4, "entropy", temperature=0.5)),
    Case(Dream(3, "maskgit_plus", 0.8, top_p=0.7)), Case(Dream(2, "origin", 1.0, top_k=2)),
    Case(Dream(3, "entropy", 0.0, top_p=0.6)), Case(Dream(2, "topk_margin", 1.5, top_p=0.9, top_k=2)),
    Case(Dream(3, "maskgit_plus", 0.8, alg_temp=0.5)), Case(Dream(2, "entropy", 0.0, alg_temp=0.05)),
    Case(Threshold(0.4, temperature=1.0)), Case(Threshold(0.6, block_length=2, temperature=0.6)),
    Case(Factor(1.0, temperature=1.0)), Case(Factor(0.5, block_length=2, temperature=0.7)),
    Case(LeftToRight()), Case(LeftToRight(temperature=2.0)),
    Case(SemiAR(2, RandomK(2))), Case(SemiAR(2, LLaDA(1, temperature=1.0))),
    Case(FixedOrder([[1, 3], [0], [2]])), Case(FixedOrder([[0, 1, 2, 3]])),
    # under a prompt
    Case(LLaDA(2, temperature=1.0), prompt=PROMPT), Case(RandomK(1), prompt=PROMPT),
    Case(Dream(2, "entropy", 1.0), prompt=PROMPT), Case(Threshold(0.5, temperature=1.0), prompt=PROMPT),
    Case(Ancestral(steps=2), prompt=PROMPT),
    # the samplers that revise, bound and edit
    *(Case(sampler, prompt=prompt) for sampler in (
        ReMDM(6, "cap", eta=0.3), ReMDM(5, "rescale", eta=0.6),
        ReMDM(10, "loop", eta=0.1, t_on=0.5, t_off=0.2, alpha_on=0.6),
        ReMDM(4, "cap", eta=0.5, eps=0.1, noise_removal=True), ReMDM(4, "rescale", eta=1.0),
        ReMDM(5, "cap", eta=0.4, schedule=Cosine())) for prompt in (None, INFILL)),
    Case(ReMDM(4, "conf")), Case(ReMDM(8, "conf"), prompt=INFILL), Case(ReMDM(3, "conf", eps=0.1, noise_removal=True)),
    Case(ReMDM(6, "conf", schedule=Cosine()), prompt=INFILL), Case(ReMDM(4, "conf", eta=0.4, conf_sigma="cap")),
    Case(LLaDA2(4, threshold=0.5, editing_threshold=0.4, max_post_steps=3, temperature=1.0)),
    Case(LLaDA2(2, block_length=2, threshold=0.3, editing_threshold=0.3, temperature=0.7), prompt=INFILL),
    Case(LLaDA2(4, threshold=0.9, editing_threshold=None, temperature=0.0)),
    Case(LLaDA2(3, threshold=0.5, editing_threshold=0.2, temperature=1.0, edit_rule="intent"), prompt=INFILL),
    Case(LLaDA2(4, threshold=0.6, editing_threshold=0.5, max_post_steps=1, temperature=0.0)),
    Case(LLaDA2(2, threshold=0.8, editing_threshold=0.3, temperature=1.5, minimal_topk=2)),
    Case(EntropyBound(0.0)), Case(EntropyBound(0.5, temperature=1.0)),
    Case(EntropyBound(1.0, block_length=2, temperature=0.7)),
    Case(EntropyBound(0.8, temperature=1.0, tempered_entropy=True), prompt=PROMPT),
    Case(EntropyBound(2.0, temperature=0.0), prompt=PROMPT),
    # issue #37: the rules 2026's serving stacks ship
    Case(EntropyThreshold(0.8, temperature=1.0), 3, vector="EntropyThreshold(threshold=0.8, temperature=1.0)"),
    Case(EntropyThreshold()), Case(EntropyThreshold(0.5, block_length=2, temperature=0.7)),
    Case(EntropyThreshold(0.6, temperature=1.0, comparison="<=", final_call=False), prompt=PROMPT),
    Case(EntropyThreshold(1.0, temperature=0.5), prompt=INFILL),
    Case(MultiBlock(0.8, block_length=1, block_add_threshold=0.0, decoded_token_threshold=0.5, temperature=1.0,
                    original="d3llm-dream"), 3,
         vector="MultiBlock(threshold=0.8, block_length=1, block_add_threshold=0.0, decoded_token_threshold=0.5, "
                "temperature=1.0, original='d3llm-dream')"),
    Case(MultiBlock(0.6, block_length=2, block_add_threshold=0.5, decoded_token_threshold=0.5, temperature=1.0,
                    original="d3llm-dream")),
    Case(MultiBlock()), Case(MultiBlock(0.6, block_length=1, block_add_threshold=0.0)),
    Case(MultiBlock(0.5, block_length=1, block_add_threshold=0.0, decoded_token_threshold=1.0, temperature=0.7,
                    original="d3llm-llada"), prompt=PROMPT),
    Case(MultiBlock(1.0, temperature=0.5, original="d3llm-dream"), prompt=INFILL),
    Case(JointThreshold(0.6, 0.5, max_post_edit_steps=2, temperature=1.0, original="hf"), 3,
         vector="JointThreshold(threshold=0.6, edit_threshold=0.5, max_post_edit_steps=2, temperature=1.0, "
                "original='hf')"),
    Case(JointThreshold()), Case(JointThreshold(0.9, 0.7, 1, block_length=2, temperature=0.7)),
    Case(JointThreshold(0.5, 0.4, 2, penalty_lambda=1.0, substitution_rate=0.5), prompt=PROMPT),
    Case(JointThreshold(0.99, 0.8, 3, num_to_transfer=2, temperature=1.0, original="hf"), prompt=INFILL),
    Case(HierarchyBlock(0.5, sub_block_length=1, temperature=1.0, top_p=0.9), 3,
         vector="HierarchyBlock(threshold=0.5, sub_block_length=1, temperature=1.0, top_p=0.9)"),
    Case(HierarchyBlock()), Case(HierarchyBlock(0.6, block_length=2, temperature=0.7)),
    Case(HierarchyBlock(0.4, sub_block_length=1, temperature=1.0, first_anchor=False)),
    Case(HierarchyBlock(0.8, sub_block_length=2, temperature=1.0, top_p=0.8), prompt=PROMPT),
    Case(ShiftConfidence(0.5, num_small_blocks=3), 3, vector="ShiftConfidence(threshold=0.5, num_small_blocks=3)"),
    Case(ShiftConfidence()), Case(ShiftConfidence(0.5, block_length=2, num_small_blocks=1, alg="entropy")),
    Case(ShiftConfidence(block_length=1, num_small_blocks=1, alg="confidence"), prompt=PROMPT),
    Case(LinearSpec(2), 3, vector="LinearSpec(block_length=2)"),
    Case(LinearSpec()), Case(LinearSpec(3), prompt=PROMPT),
    Case(Nemotron(0.6, temperature=1.0), 3, vector="Nemotron(threshold=0.6, temperature=1.0)"),
    Case(Nemotron()), Case(Nemotron(None, 2, 0.7)), Case(Nemotron(0.5, 1, 1.0), prompt=PROMPT),
    Case(Nemotron(0.8, 2, 1.0, "fastdiffuser")), Case(Nemotron(None, 4, 0.5, "fastdiffuser", max_steps=3)),
    Case(LowConfidence(0.5, temperature=1.5), 3, vector="LowConfidence(threshold=0.5, temperature=1.5)"),
    Case(LowConfidence()), Case(LowConfidence(0.01, 2, final_call=False)),
    Case(LowConfidence(0.6, temperature=1.0), prompt=PROMPT),
    Case(DllmMDLM(2, temperature=1.0), 3, vector="DllmMDLM(steps=2, temperature=1.0)"),
    Case(DllmMDLM(3, temperature=1.0)), Case(DllmMDLM(6, 2, 0.7)),
    Case(DllmMDLM(3, temperature=1.0, alpha_schedule="cosine"), prompt=PROMPT),
    Case(DllmMDLM(5, temperature=1.0, remasking="random")),
    Case(PCSampler(3, lam=0.25, clip=10.0, frequencies=(0.6, 0.3, 0.1), temperature=1.0), 3,
         vector="PCSampler(steps=3, lam=0.25, clip=10.0, frequencies=(0.6, 0.3, 0.1), temperature=1.0)"),
    Case(PCSampler(4, temperature=1.0)), Case(PCSampler(4, 2, 0.5, 0.3, (0.6, 0.3, 0.1), 0.7)),
    Case(PCSampler(3, 1, temperature=1.0, form="readme"), prompt=PROMPT),
    Case(InfoGain(3, threshold=0.0, position_temperature=1.0), 3,
         vector="InfoGain(steps=3, position_temperature=1.0, threshold=0.0)"),
    Case(InfoGain(4)), Case(InfoGain(4, 2, 3, 0.5, variant="lookum")), Case(InfoGain(3, candidates=2), prompt=PROMPT),
    Case(DllmMDLM(4, temperature=1.0, stochastic=True)), Case(DllmMDLM(3, 2, 0.7, stochastic=True), prompt=PROMPT),
    Case(InfoGain(4, position_temperature=0.5, original="dllm")),
    Case(InfoGain(3, position_temperature=1.0, threshold=0.5, temperature=1.0), 3,
         vector="InfoGain(steps=3, position_temperature=1.0, threshold=0.5, temperature=1.0)"),
    Case(InfoGain(4, candidates=3, temperature=0.7)), Case(InfoGain(3, candidates=4, temperature=1.0), prompt=PROMPT),
    Case(LowConfidence(0.5, temperature=1.5, top_k=2, top_p=0.9, min_p=0.1)),
    # issue #39: Wainwright's Bernoulli-subset sampler
    Case(Bernoulli((0.2, 0.6, 0.9)), 3, vector="Bernoulli(times=(0.2, 0.6, 0.9))"),
    Case(Bernoulli((0.3, 0.7), init="step", completion="step")), Case(Bernoulli((0.0, 0.25, 0.5, 1.0))),
    Case(Bernoulli((0.1, 0.4, 0.8), completion="step"), prompt=INFILL),
    Case(RandomSizes(((1.0,), (0.5, 0.5), (0.2, 0.3, 0.5))), 3,
         vector="RandomSizes(law=((1.0,), (0.5, 0.5), (0.2, 0.3, 0.5)))"),
    Case(RandomSizes()), Case(RandomSizes(((1.0,), (0.3, 0.7), (0.5, 0.5, 0.0))), prompt=PROMPT),
)
VECTORS = {case.vector: case.sampler for case in CASES if case.vector}  # name -> sampler (a name may have two rows)
