"""Hypothesis strategies for schedules, samplers of every family (valid parameters: blocks that tile the region,
steps that divide over the blocks) and for denoisers (the oracle, a perturbed oracle, random rows, a
fixed-weight MLP).  Re-exported by :mod:`refimpl.testing.strategies`."""
import dataclasses

import numpy as np
from hypothesis import strategies as st

from .. import samplers as smp
from ..core import validate
from ..core.errors import InvalidParameterError
from ..denoisers import oracle_denoiser
from ..diffusion import schedules as sch
from ..samplers import registry
from . import denoisers as dn

FAMILIES = registry.NAMES  # every registered family, by its one name (refimpl.samplers.registry)
TEMPERATURES = (1.0, 0.0, 0.5)  # shrinks to 1 (the denoiser's own law)


def schedules():
    """Every schedule family with valid parameters: Linear (the shrink target), Cosine, Polynomial,
    LogLinear (MDLM's), Geometric (SEDD's)."""
    return st.one_of(
        st.just(sch.Linear()), st.just(sch.Cosine()),
        st.floats(0.25, 4.0).map(lambda power: sch.Polynomial(power=power)),
        st.floats(0.0, 0.1).map(lambda eps: sch.LogLinear(eps=eps)),
        st.tuples(st.floats(1e-5, 1e-4), st.floats(5.0, 30.0)).map(lambda s: sch.Geometric(s[0], s[1])))


def names(value, what, allowed):
    """A name or a list of names from ``allowed``, as a tuple."""
    if isinstance(value, str):
        value = (value,)
    try:
        names = tuple(value)
    except TypeError:
        names = ()
    if not names or any(not isinstance(n, str) or n not in allowed for n in names):
        raise InvalidParameterError(f"{what} must be a non-empty list from {tuple(allowed)}, got {value!r}")
    return names


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def _block_lengths(length):
    return st.one_of(st.none(), st.sampled_from(_divisors(length)))


@st.composite
def _random_k(draw, length):
    if draw(st.booleans()):
        return smp.RandomK(draw(st.integers(1, length)), draw(st.sampled_from(TEMPERATURES)))
    cuts = sorted(draw(st.sets(st.integers(1, length - 1), max_size=length - 1))) if length > 1 else []
    counts = [b - a for a, b in zip([0] + cuts, cuts + [length])]
    return smp.RandomK(counts, draw(st.sampled_from(TEMPERATURES)))


@st.composite
def _fixed_order(draw, length):
    order = draw(st.permutations(range(length)))
    cuts = sorted(draw(st.sets(st.integers(1, length - 1), max_size=length - 1))) if length > 1 else []
    sets = [tuple(order[a:b]) for a, b in zip([0] + cuts, cuts + [length])]
    return smp.FixedOrder(sets, draw(st.sampled_from(TEMPERATURES)))


@st.composite
def _ancestral(draw, length):
    schedule = draw(schedules())
    noise_removal = draw(st.booleans()) or float(schedule.mask_prob(0.0)) > 0  # (SEDD's alpha(0) < 1 needs it)
    eps = draw(st.sampled_from((0.0, 1e-3, 0.1))) if noise_removal else 0.0
    return smp.Ancestral(schedule, draw(st.integers(1, 2 * length)), eps, noise_removal, draw(st.booleans()))


@st.composite
def _llada(draw, length):
    block = draw(_block_lengths(length))
    blocks = 1 if block is None else length // block
    per_block = draw(st.integers(1, length // blocks))
    return smp.LLaDA(blocks * per_block, block, draw(st.sampled_from((0.0, 1.0, 0.5))),
                     draw(st.sampled_from(("low_confidence", "random"))), cfg_scale=draw(st.sampled_from((0.0, 0.5, 2.0))))


@st.composite
def _remdm(draw, length):
    remasking = draw(st.sampled_from(("cap", "rescale", "loop") + (("conf",) if length <= 3 else ())))
    if remasking == "loop":  # a grid of 10 steps with t_on = 0.5 and t_off = 0.2 on its points
        alpha_on = draw(st.sampled_from((0.6, 0.9)))
        eta = draw(st.floats(0.0, (1.0 - alpha_on) / alpha_on))
        return smp.ReMDM(10, "loop", eta, t_on=0.5, t_off=0.2, alpha_on=alpha_on)
    schedule = draw(schedules())
    noise_removal = draw(st.booleans()) or float(schedule.mask_prob(0.0)) > 0  # (SEDD's alpha(0) < 1 needs it)
    eps = draw(st.sampled_from((0.0, 0.1))) if noise_removal else 0.0
    conf_sigma = draw(st.sampled_from(("max", "cap", "rescale"))) if remasking == "conf" else "max"
    return smp.ReMDM(draw(st.integers(1, 2 * length)), remasking, draw(st.floats(0.0, 1.0)), schedule, eps,
                     noise_removal, conf_sigma=conf_sigma)


@st.composite
def _llada2(draw, length):
    editing = draw(st.sampled_from((0.0, 0.3, 0.6, 1.5)))
    return smp.LLaDA2(draw(st.integers(1, length + 1)), draw(_block_lengths(length)), draw(st.floats(0.0, 1.2)),
                      editing, draw(st.integers(0, 3)), draw(st.integers(1, 2)) if length >= 2 else 1,
                      draw(st.sampled_from((0.0, 1.0, 0.5))), draw(st.sampled_from(("code", "intent"))))


@st.composite
def _joint_threshold(draw, length):
    return smp.JointThreshold(draw(st.floats(0.0, 1.2)), draw(st.floats(0.0, 1.2)), draw(st.integers(0, 3)),
                              draw(_block_lengths(length)), draw(st.sampled_from((0.0, 1.5))), draw(st.integers(1, 2)),
                              draw(st.sampled_from(TEMPERATURES)), draw(st.sampled_from(("sglang", "hf"))),
                              draw(st.one_of(st.none(), st.floats(0.05, 1.0))))


@st.composite
def _hierarchy_block(draw, length):
    block = draw(_block_lengths(length))
    sub = draw(st.one_of(st.none(), st.sampled_from(_divisors(block or length))))
    return smp.HierarchyBlock(draw(st.floats(0.0, 1.2)), block, sub, draw(st.sampled_from(TEMPERATURES)),
                              draw(st.one_of(st.none(), st.floats(0.5, 1.0))), draw(st.booleans()))


@st.composite
def _shift_confidence(draw, length):
    block = draw(_block_lengths(length))
    return smp.ShiftConfidence(draw(st.floats(0.0, 1.2)), block, draw(st.sampled_from(_divisors(block or length))),
                               draw(st.sampled_from(("confidence_threshold", "entropy", "confidence"))),
                               draw(st.booleans()))


@st.composite
def _nemotron(draw, length):
    original = draw(st.sampled_from(("dllm", "fastdiffuser")))
    threshold = draw(st.one_of(st.none(), st.floats(0.0, 1.2)))
    block = draw(_block_lengths(length))
    steps = None if original == "dllm" or threshold is not None else draw(st.integers(1, block or length))
    return smp.Nemotron(threshold, block, draw(st.sampled_from(TEMPERATURES)), original, steps)


@st.composite
def _pc_sampler(draw, length):
    block = draw(_block_lengths(length))
    blocks = 1 if block is None else length // block
    # (the frequency table is V long and the vocabulary is not known here: the uniform default)
    return smp.PCSampler(blocks * draw(st.integers(1, 3)), block, draw(st.floats(0.0, 2.0)), draw(st.floats(0.01, 10.0)),
                         None, draw(st.sampled_from(TEMPERATURES)), draw(st.sampled_from(("code", "readme"))))


@st.composite
def _dllm_mdlm(draw, length):
    remasking = draw(st.sampled_from(("low_confidence", "random")))
    return smp.DllmMDLM(draw(st.integers(1, 2 * length)), draw(st.one_of(st.none(), st.integers(1, length))),
                        draw(st.sampled_from(TEMPERATURES)), remasking, draw(st.sampled_from(("linear", "cosine"))),
                        stochastic=remasking == "low_confidence" and draw(st.booleans()))


@st.composite
def _dream(draw, length):
    alg = draw(st.sampled_from(("origin", "maskgit_plus", "topk_margin", "entropy")))
    top_p = draw(st.one_of(st.none(), st.floats(0.5, 1.0)))
    top_k = draw(st.one_of(st.none(), st.integers(1, 3)))
    alg_temp = draw(st.sampled_from((0.0, 0.5))) if alg != "origin" and length <= 3 else 0.0  # enumerates V^n draws
    return smp.Dream(draw(st.integers(1, length + 1)), alg, draw(st.sampled_from((0.0, 1.0, 0.5))),
                     draw(st.sampled_from((1e-3, 0.1))), top_p, top_k, alg_temp)


@st.composite
def _semi_ar(draw, length):
    block = draw(st.sampled_from(_divisors(length)))
    inner = draw(st.sampled_from(("random_k", "llada", "threshold")))
    if inner == "random_k":
        return smp.SemiAR(block, smp.RandomK(draw(st.integers(1, block))))
    if inner == "llada":
        return smp.SemiAR(block, smp.LLaDA(draw(st.integers(1, block))))
    return smp.SemiAR(block, smp.Threshold(draw(st.floats(0.05, 1.0))))


@st.composite
def _multi_block(draw, length):
    original = draw(st.sampled_from(("sglang", "d3llm-dream", "d3llm-llada")))
    temperature = 0.0 if original == "sglang" else draw(st.sampled_from(TEMPERATURES))
    return smp.MultiBlock(draw(st.floats(0.0, 1.5)), draw(_block_lengths(length)), draw(st.floats(0.0, 1.0)),
                          draw(st.floats(0.0, 1.0)), temperature, original)


BUILDERS = {
    "first_hitting": lambda length: st.just(smp.FirstHitting()),
    "random_sizes": lambda length: st.one_of(st.just(smp.RandomSizes()), st.builds(
        lambda seeds: smp.RandomSizes(tuple(tuple(np.random.default_rng(s).dirichlet(np.ones(m)).tolist())
                                            for m, s in enumerate(seeds, start=1))),
        st.lists(st.integers(0, 2**32 - 1), min_size=length, max_size=length))),
    "bernoulli": lambda length: st.builds(
        smp.Bernoulli, st.lists(st.floats(0.0, 1.0), min_size=2, max_size=5, unique=True).map(sorted).map(tuple),
        st.sampled_from(("exact", "step")), st.sampled_from(("exact", "step"))),
    "random_k": _random_k,
    "left_to_right": lambda length: st.sampled_from(TEMPERATURES).map(smp.LeftToRight),
    "fixed_order": _fixed_order,
    "semi_ar": _semi_ar,
    "ancestral": _ancestral,
    "llada": _llada,
    "dream": _dream,
    "threshold": lambda length: st.builds(smp.Threshold, st.floats(0.05, 1.0), _block_lengths(length),
                                          st.sampled_from((0.0, 1.0))),
    "factor": lambda length: st.builds(smp.Factor, st.floats(0.1, 4.0), _block_lengths(length),
                                       st.sampled_from((0.0, 1.0))),
    "entropy_bound": lambda length: st.builds(smp.EntropyBound, st.floats(0.0, 3.0), _block_lengths(length),
                                              st.sampled_from((0.0, 1.0, 0.5)), st.booleans()),
    "entropy_threshold": lambda length: st.builds(smp.EntropyThreshold, st.floats(0.0, 1.5), _block_lengths(length),
                                                  st.sampled_from((0.0, 1.0, 0.5)), st.sampled_from(("<", "<=")),
                                                  st.booleans()),
    "multi_block": _multi_block,
    "remdm": _remdm,
    "llada2": _llada2,
    "joint_threshold": _joint_threshold,
    "hierarchy_block": _hierarchy_block,
    "shift_confidence": _shift_confidence,
    "nemotron": _nemotron,
    "low_confidence": lambda length: st.builds(smp.LowConfidence, st.floats(0.0, 1.2), _block_lengths(length),
                                               st.sampled_from(TEMPERATURES), st.booleans(),
                                               top_k=st.one_of(st.none(), st.integers(1, 3)),
                                               top_p=st.one_of(st.none(), st.floats(0.05, 1.0)),
                                               min_p=st.sampled_from((0.0, 0.2))),
    "dllm_mdlm": _dllm_mdlm,
    "pc_sampler": _pc_sampler,
    "info_gain": lambda length: st.builds(smp.InfoGain, st.integers(length, 2 * length), st.none(),
                                          st.integers(1, 4), st.sampled_from((0.0, 0.2, 1.0)),
                                          st.sampled_from((0.0, 0.8)), st.sampled_from(("info_gain", "lookum")),
                                          st.sampled_from(("lowest", "highest")), st.sampled_from(("standalone", "dllm")),
                                          st.sampled_from(TEMPERATURES)),
    "linear_spec": lambda length: st.builds(smp.LinearSpec, st.one_of(st.none(), st.integers(1, length))),
}


def samplers(length, families=FAMILIES, fixed=None):
    """A sampler of one of ``families`` (names from :data:`FAMILIES`) with parameters valid for a
    generation region of ``length`` masked positions (the whole sequence when there is no prompt).

    ``fixed``: parameters every drawn sampler takes instead of drawing them, for the options a sampler under test
    does not support — ``fixed={"cfg_scale": 0.0, "remasking": "low_confidence"}`` keeps LLaDA's guidance and
    random remasking out.  A name applies to the families that have that parameter; a name no chosen family has
    is refused, and so is a value a family refuses (its own error, when drawn)."""
    length = validate.integer(length, "length", 1)
    families = names(families, "families", FAMILIES)
    strategy = st.one_of(*[BUILDERS[f](length) for f in families])
    if fixed is None:
        return strategy
    if not isinstance(fixed, dict) or not all(isinstance(k, str) for k in fixed):
        raise InvalidParameterError(f"fixed must be a dict of parameter names to values, got {fixed!r}")
    known = {f.name for name in families for f in dataclasses.fields(registry.FAMILIES[name].cls)}
    unknown = sorted(set(fixed) - known)
    if unknown:
        raise InvalidParameterError(f"fixed names {unknown}, which none of {list(families)} has (their parameters: "
                                    f"{', '.join(sorted(known))})")

    def pin(sampler):
        own = {f.name for f in dataclasses.fields(sampler)}
        return dataclasses.replace(sampler, **{k: v for k, v in fixed.items() if k in own})
    return strategy.map(pin)


DENOISER_KINDS = ("oracle", "perturbed_oracle", "random", "mlp")


def denoisers(table, kinds=DENOISER_KINDS):
    """A denoiser for the law ``table``: its oracle (the shrink target), a perturbed oracle (mix 0.05 to
    0.5), random rows, or a fixed-weight MLP; each a deterministic function of z with a short repr."""
    table = validate.law_table(table)
    vocab_size, length = table.shape[0], table.ndim
    kinds = names(kinds, "kinds", DENOISER_KINDS)
    seeds = st.integers(0, 2**32 - 1)
    options = {
        "oracle": st.just(table).map(oracle_denoiser),
        "perturbed_oracle": st.builds(lambda mix, seed: dn.perturbed_oracle(table, mix, seed), st.floats(0.05, 0.5), seeds),
        "random": st.builds(lambda seed, sharp: dn.random_denoiser(vocab_size, length, seed, sharp), seeds,
                            st.sampled_from((1.0, 0.3, 3.0))),
        "mlp": st.builds(lambda seed: dn.fixed_mlp(vocab_size, length, seed), seeds),
    }
    return st.one_of(*[options[k] for k in kinds])


__all__ = ["BUILDERS", "DENOISER_KINDS", "FAMILIES", "denoisers", "samplers", "schedules"]
