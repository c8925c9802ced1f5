"""The uniform-state samplers' rows (issue #38): their settings, and each setting's exact law against the data law
with its expected calls — shared by ``refimpl beyond-mask`` (:mod:`refimpl.experiments.beyond_mask`) and
``refimpl frontier --uniform`` (:mod:`refimpl.experiments.frontier`)."""
from ..core import validate
from ..laws import joint, metrics
from ..reports.labels import sampler_label
from ..samplers.discrete_ddim import DiscreteDDIM
from ..samplers.renoise import Renoise
from ..samplers.uniform_ancestral import UniformAncestral
from ..samplers.uniform_registry import law_and_calls

MODELS = {"told": "told the time", "agnostic": "not told the time (U-all)"}


def uniform_settings(length, quick=False):
    """(sampler, model) pairs: ``model`` "told" (a model told the time, built per call) or "agnostic"."""
    counts = sorted({1, 2, length, 2 * length} if quick else {1, 2, max(1, length // 2), length, 2 * length,
                                                                4 * length})
    out = [(UniformAncestral(s, noise_eps=0.0), "told") for s in counts]
    out += [(DiscreteDDIM(s, temperature=1.0), "told") for s in counts]
    out += [(DiscreteDDIM(s, temperature=1.0), "agnostic") for s in counts]
    out += [(Renoise(s), "agnostic") for s in sorted({length, 2 * length, 8})]
    return out


def uniform_row(table, sampler, model):
    """One row: the exact output law's metrics against ``table`` (a law on the positions decoded) and its calls;
    ``model`` "told" is the leave-one-out posterior for UniformAncestral (what Duo's steps read), the posterior
    marginal for the others (:data:`refimpl.samplers.uniform_registry.MODELS`)."""
    kind = "told_loo" if model == "told" and isinstance(sampler, UniformAncestral) else model
    q, calls = law_and_calls(sampler, table, kind)
    return {"label": sampler_label(sampler), "noise": "uniform", "model": MODELS[model], "expected_calls": float(calls),
            **metrics.compare(table, q)}


def uniform_frontier_rows(p, prompt=None, quick=False):
    """The uniform-state settings as rows of :func:`refimpl.experiments.frontier.frontier_rows` (the masked
    positions decoded from p given the prompt; labels name the model; ``tie_probability`` nan: not computed)."""
    table = validate.law_table(p)
    decoded = table if prompt is None else joint.conditional_law(table, prompt)
    out = []
    for sampler, model in uniform_settings(decoded.ndim, quick):
        row = uniform_row(decoded, sampler, model)
        out.append({"sampler": repr(sampler), "label": f"{row['label']} [{model} model]",
                    "expected_calls": row["expected_calls"], "tokens_per_call": decoded.ndim / row["expected_calls"],
                    **{k: row[k] for k in ("kl_p_q", "kl_q_p", "tv", "incoherent_mass")},
                    "tie_probability": float("nan")})
    return out
