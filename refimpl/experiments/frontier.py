r"""What parallel decoding loses per model call: sampler settings side by side, each with the exact
KL(p || q), TV and incoherent mass of its output law q and the exact expected number of model calls
(NFE) of its original loop (:func:`refimpl.engine.calls.expected_calls`) — the report behind ``refimpl
frontier`` and ``python -m benchmarks.frontier``.

With the oracle, nothing is lost to training: every nat is the price of revealing tokens together
(one call revealing everything loses TC(p), proofs/kl_decomposition.md).  With a trained denoiser the
same table shows what its decoding settings cost on top of its training error.
"""
import dataclasses

import numpy as np

from .. import samplers as S
from ..core import validate
from ..core.errors import InvalidParameterError
from ..engine import problem, run
from ..laws import metrics, quantities
from ..reports.labels import sampler_label
from ..reports.tables import Report, Table
from ..samplers.plans import generation_region
from ..samplers.registry import NAMES
from .executors import ordered_map

TOLERANCE = 1e-12  # calls and KLs closer than this count as equal when settings are compared


def default_samplers(masked, region=None, quick=False, temperature=1.0, prompted=False, prefix=True):
    """Every family at several speeds for ``masked`` masked positions, drawing at ``temperature`` (1 by
    default, so that KL(p || q) is finite; MDLM's and ReMDM's samplers always draw at 1), one block — and
    LLaDA with blocks of 2 and 4 (the paper's semi-autoregressive prescription) where they tile the
    ``region`` the blocks cover (default: ``masked`` positions).  The samplers that revise or bound
    (ReMDM's remasking, the EB-Sampler) and edit (LLaDA 2.x block refinement, with its default editing
    threshold 0.5 and with editing off, in one block and, without a prompt, in blocks of 4 where they
    tile the sequence) sit next to the reveal-only ones; LLaDA's classifier-free guidance too when
    ``prompted`` (without a prompt it changes nothing but the cost); and the rules 2026's serving stacks ship
    (SGLang's, dllm's, the vLLM plugin's; ``_serving``) — those that decode only after a prompt that is a prefix
    left out when ``prefix`` is False.  The families come in the registry's order
    (:data:`refimpl.samplers.NAMES`), each with the settings of :data:`SETTINGS`."""
    steps = sorted({1, 2, max(1, masked // 2), masked}) if not quick else sorted({1, 2, masked})
    where = Where(masked, masked if region is None else region, steps, quick, temperature, prompted, prefix)
    return [sampler for name in NAMES if name in SETTINGS for sampler in SETTINGS[name](where)]


@dataclasses.dataclass(frozen=True)
class Where:
    """What the frontier's settings depend on: the masked count, the region LLaDA's blocks tile, the step counts,
    ``quick``, the temperature, whether there is a prompt and whether it is a prefix (or none)."""

    masked: int
    region: int
    steps: list
    quick: bool
    temperature: float
    prompted: bool
    prefix: bool = True


def _llada(w):
    t, out = w.temperature, [S.LLaDA(s, temperature=w.temperature) for s in w.steps]
    if w.region % 4 == 0:
        out += [S.LLaDA(s, block_length=b, temperature=t) for b in (2, 4) for s in (w.region // 2, w.region)]
    out += [S.LLaDA(s, temperature=t, remasking="random") for s in w.steps]
    if w.prompted:
        out += [S.LLaDA(s, temperature=t, cfg_scale=c) for s in w.steps for c in (0.5, 2.0)]
    return out


def _llada2(w):
    t, out = w.temperature, [S.LLaDA2(s, temperature=w.temperature, editing_threshold=e) for s in w.steps
                             for e in (0.5, 0.0)]
    if not w.prompted and w.region % 4 == 0 and not w.quick:
        out += [S.LLaDA2(s, block_length=4, temperature=t, editing_threshold=e) for s in (2, 4) for e in (0.5, 0.0)]
    return out


SETTINGS = {  # family name -> the settings the frontier shows of it, given a Where
    "left_to_right": lambda w: [S.LeftToRight(w.temperature)],
    "ancestral": lambda w: [S.Ancestral(steps=s, cache=True) for s in sorted(set(w.steps) | {4 * w.masked})],
    "llada": _llada,
    "dream": lambda w: [S.Dream(s, alg, temperature=w.temperature) for alg in
                        (("maskgit_plus",) if w.quick else ("maskgit_plus", "entropy")) for s in w.steps],
    "threshold": lambda w: [S.Threshold(x, temperature=w.temperature)
                            for x in ((0.3, 0.6, 0.9) if w.quick else (0.2, 0.4, 0.6, 0.8, 0.95, 1.0))],
    "factor": lambda w: [S.Factor(f, temperature=w.temperature)
                         for f in ((2.0, 0.5) if w.quick else (4.0, 2.0, 1.0, 0.5, 0.25))],
    "entropy_bound": lambda w: [S.EntropyBound(g, temperature=w.temperature)
                                for g in ((0.5, 2.0) if w.quick else (0.0, 0.25, 0.5, 1.0, 2.0, 4.0))],
    "remdm": lambda w: remdm_samplers(w.masked, w.steps, w.quick),
    "llada2": _llada2,
    **{name: lambda w, name=name: _serving(name, w) for name in
       ("entropy_threshold", "multi_block", "joint_threshold", "hierarchy_block", "shift_confidence", "linear_spec",
        "nemotron", "low_confidence", "dllm_mdlm", "pc_sampler", "info_gain")},
}


PREFIX_ONLY = ("hierarchy_block", "shift_confidence", "linear_spec", "nemotron", "low_confidence", "dllm_mdlm",
               "info_gain")  # (their blocks see only earlier ones: refimpl.samplers.plans.prefix_prompt)


def _serving(name, w):
    """The decoding rules 2026's serving stacks ship (issue #37, ../shared/SAMPLERS-2026.md) at their shipped defaults
    and a few thresholds or step counts, at the frontier's temperature where the rule has one (ShiftConfidence,
    LinearSpec and InfoGain decode greedily: point masses, at an infinite KL(p || q) unless p is one); blocks of
    2 where they tile the region (MultiBlock's lookahead needs two blocks at least); JointThreshold in blocks of 4 (or
    2) from position 0 where they tile the sequence, without a prompt (one block of 8 that edits takes minutes);
    InfoGain with as many iterations as positions (fewer may leave masks, as its original does); ShiftConfidence
    without a prompt only."""
    if not w.prefix and name in PREFIX_ONLY:
        return []
    t, thresholds = w.temperature, ((0.5, 0.9) if w.quick else (0.3, 0.5, 0.7, 0.9))
    halves = w.region % 2 == 0 and w.region >= 4
    if name == "entropy_threshold":
        return [S.EntropyThreshold(x, temperature=t) for x in ((0.3, 0.7) if w.quick else (0.1, 0.3, 0.5, 0.7, 1.0))]
    if name == "multi_block":
        original = "sglang" if t == 0 else "d3llm-dream"  # (sglang's takes the argmax; d3LLM's reference samples)
        return [S.MultiBlock(x, block_length=2, temperature=t, original=original) for x in thresholds] if halves else []
    if name == "joint_threshold":
        block = None if w.prompted else 4 if w.region % 4 == 0 else 2 if halves else None
        return [S.JointThreshold(x, temperature=t, original="hf", edit_threshold=e, max_post_edit_steps=2,
                                 block_length=block) for x in thresholds for e in ((0.0,) if w.quick else (0.0, 0.9))]
    if name == "hierarchy_block":
        return [S.HierarchyBlock(x, temperature=t) for x in thresholds]
    if name == "shift_confidence":  # (its blocks start at 0: a prompt would end inside one, which sglang does not take)
        return [] if w.prompted else [S.ShiftConfidence(x, num_small_blocks=2 - w.region % 2) for x in thresholds]
    if name == "linear_spec":
        return [S.LinearSpec()]
    if name == "nemotron":
        return [S.Nemotron(x, temperature=t) for x in thresholds]
    if name == "low_confidence":
        return [S.LowConfidence(x, temperature=t) for x in thresholds]
    if name == "dllm_mdlm":
        return [S.DllmMDLM(s, temperature=t) for s in w.steps]
    if name == "pc_sampler":
        return [S.PCSampler(s, temperature=t, lam=0.25, clip=10.0) for s in w.steps]
    return [S.InfoGain(w.region, candidates=c) for c in ((8,) if w.quick else (2, 8))]  # (fewer steps may leave masks)


def remdm_samplers(masked, steps, quick=False):
    """ReMDM at the Ancestral rows' step counts from 4 up (below, a step rarely meets a clean token): max-capped
    (eta 0.1, 0.5), rescaled (eta 0.5) and, with 4 steps per masked position, the loop (alpha 0.5 held from
    t = 0.5 to 0.25, eta 0.2); the confidence schedule too where at most 3 positions are masked (its exact
    law enumerates (sequence, scores) states, which grow with the histories: 4 masked positions over 8
    steps already form some 31 million)."""
    counts = [s for s in sorted(set(steps) | {4 * masked}) if s >= min(4, masked)]
    out = [S.ReMDM(s, "cap", eta=e) for s in counts for e in ((0.5,) if quick else (0.1, 0.5))]
    out += [S.ReMDM(s, "rescale", eta=0.5) for s in counts]
    out.append(S.ReMDM(4 * masked, "loop", eta=0.2, t_on=0.5, t_off=0.25, alpha_on=0.5))
    if masked <= 3:
        out += [S.ReMDM(s, "conf") for s in counts]
    return out


def frontier_rows(p, denoiser, samplers, prompt=None, ties=True, executor=None, progress=None):
    """One dict per sampler: ``label``, ``expected_calls``, ``tokens_per_call`` (masked positions per call),
    ``kl_p_q``, ``kl_q_p``, ``tv``, ``incoherent_mass``, and with ``ties`` ``tie_probability``
    (:func:`refimpl.tie_probability`: one more run for a ranking sampler).  ``executor``: the settings run side
    by side on it (:func:`refimpl.experiments.executors.ordered_map`; the same rows, in the same order).
    ``progress(message, detail=True)``, if given, hears how many settings are done."""
    table = validate.law_table(p)
    masked = _masked(prompt, table.shape[0], table.ndim)
    report = None if progress is None else lambda done, total: progress(f"{done} of {total} settings", detail=True)
    return ordered_map(_Row(table, denoiser, prompt, ties, masked), samplers, executor, report)


class _Row:
    """One frontier row, a picklable callable (so that a process pool can run it)."""

    def __init__(self, table, denoiser, prompt, ties, masked):
        self.table, self.denoiser, self.prompt, self.ties, self.masked = table, denoiser, prompt, ties, masked

    def __call__(self, sampler):
        table, denoiser, prompt = self.table, self.denoiser, self.prompt
        vocab_size, length = table.shape[0], table.ndim
        result = run(problem(denoiser, sampler, length, vocab_size, prompt), ties=self.ties)
        q, calls = result.finished(type(sampler).__name__), float(result.calls.sum())
        found = metrics.law_metrics(table, q, prompt)
        row = {"sampler": repr(sampler), "label": sampler_label(sampler), "expected_calls": calls,
               "tokens_per_call": self.masked / calls, **found}
        if self.ties:
            row["tie_probability"] = result.tie_probability
        return row


def _masked(prompt, vocab_size, length):
    """How many positions the prompt leaves masked (all by default); none is an error: nothing to decode."""
    if prompt is None:
        return length
    masked = int(np.sum(validate.tokens(prompt, vocab_size, length, partial=True, name="prompt", ndim=1) == vocab_size))
    if masked == 0:
        raise InvalidParameterError("the prompt holds no mask: there is nothing to decode")
    return masked


def undominated(rows, tolerance=TOLERANCE, loss="kl_p_q"):
    """The rows no other row beats on both counts — as few calls or fewer and a smaller ``loss`` (a row
    key: ``kl_p_q`` by default, or ``tv``), or fewer calls and as small a loss — by increasing NFE; rows
    equal to within ``tolerance`` all stay."""
    def beats(a, b):
        fewer, less = a["expected_calls"] < b["expected_calls"] - tolerance, a[loss] < b[loss] - tolerance
        return ((fewer or a["expected_calls"] <= b["expected_calls"] + tolerance)
                and (less or a[loss] <= b[loss] + tolerance) and (fewer or less))
    kept = [row for row in rows if not any(beats(other, row) for other in rows)]
    return sorted(kept, key=lambda r: (r["expected_calls"], r[loss]))


def shown(value):
    """0 for the rounding residue of an exact law (|value| < 1e-12); the rows keep the number."""
    return 0.0 if abs(value) < TOLERANCE else value


LOSSES = {"kl": "kl_p_q", "tv": "tv"}


def frontier_report(p, denoiser, samplers=None, prompt=None, temperature=1.0, by="kl", executor=None, rows_of=None,
                    progress=None, uniform=False):
    """The rows of :func:`frontier_rows` by increasing NFE, the undominated ones (by KL(p || q), or by TV
    with ``by="tv"`` — the choice at temperature 0, where q misses most of p and KL is infinite) marked.
    ``rows_of(samplers)``: where the rows come from instead (e.g. a resumable sweep,
    :func:`refimpl.experiments.sweep.frontier_sweep_rows`).  ``progress``: as :func:`frontier_rows`'s.  ``uniform``:
    also the samplers without a mask with exact models (:func:`refimpl.experiments.uniform_rows.uniform_frontier_rows`;
    their P(tie) is not computed: nan)."""
    if by not in LOSSES:
        raise InvalidParameterError(f"by must be one of {', '.join(LOSSES)}, got {by!r}")
    table = metrics.conditioned(p, prompt)
    if samplers is None:
        vocab_size, length = table.shape[0], table.ndim
        masked = _masked(prompt, vocab_size, length)  # (checks the prompt)
        flags = np.full(length, True) if prompt is None else np.asarray(prompt) == vocab_size
        start, end = generation_region(flags, np.full(length, True))  # where LLaDA's blocks go
        prefix = not np.any(np.diff(flags.astype(np.int64)) < 0)  # no clean position after a masked one
        samplers = default_samplers(masked, end - start, temperature=temperature, prompted=prompt is not None,
                                    prefix=prefix)
    rows = (frontier_rows(p, denoiser, samplers, prompt, executor=executor, progress=progress) if rows_of is None
            else rows_of(samplers))
    if uniform:
        from .uniform_rows import uniform_frontier_rows

        rows = rows + uniform_frontier_rows(p, prompt)
    loss = LOSSES[by]
    best = {row["label"] for row in undominated(rows, loss=loss)}
    ordered = sorted(rows, key=lambda r: (r["expected_calls"], r[loss]))
    return Report(
        name="frontier", title="What parallel decoding loses per model call",
        tables=(Table(f"Exact loss of each setting against its expected model calls (* : no setting beats it on "
                      f"both, by {by.upper()})",
                      ("sampler", "E[NFE]", "tokens/call", "KL(p||q)", "TV", "incoherent", "frontier", "P(tie)"),
                      tuple((r["label"], r["expected_calls"], r["tokens_per_call"], shown(r["kl_p_q"]), shown(r["tv"]),
                             r["incoherent_mass"], "*" if r["label"] in best else "", shown(r["tie_probability"]))
                            for r in ordered)),),
        findings={"total_correlation_p": quantities.total_correlation(table), "settings": len(rows),
                  "on_frontier": len(best)},
        notes=("TC(p) is what one call revealing every masked position loses with the oracle.",
               "P(tie): the probability that a tie in confidence decides what a step keeps (refimpl.tie_probability); "
               "the laws under other tie rules differ from these by a TV of at most that."))
