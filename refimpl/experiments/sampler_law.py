"""The exact law of one sampler on one data law, and what it loses: the report behind ``refimpl law``."""
import numpy as np

from .. import engine
from ..core import validate
from ..core.errors import InvalidParameterError
from ..laws import metrics, quantities
from ..reports.tables import ROUNDING, Report, Table, tokens
from ..samplers import FixedOrder


def sampler_report(p, denoiser, sampler, prompt=None, top=8, names=None, letters=False):
    """Metrics of the sampler's exact law q against p (given the prompt), the expected number of model calls
    its original loop makes (:func:`refimpl.expected_calls`), the probability that a tie decides what a step
    keeps (:func:`refimpl.tie_probability`), and the most changed outputs — from one run of the engine on one
    problem (the prompt checked once, the plan built once).  Sequences print as token ids (``names``: as the
    vocabulary's names; ``letters``: as A, B, ...), positions from 0."""
    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    job = engine.problem(denoiser, sampler, length, vocab_size, prompt)
    result = engine.run(job, ties=True)
    q, calls, stats = result.finished(type(sampler).__name__), result.calls, result.stats
    z = None if prompt is None else job.prompt
    target = metrics.given_tokens(table, z)
    findings = dict(metrics.compare(target, q))
    findings.update({"entropy_p": quantities.entropy(target), "total_correlation_p": quantities.total_correlation(target),
                     "expected_model_calls": float(calls.sum()), "tie_probability": result.tie_probability,
                     "engine_steps": stats.steps, "transition_entries": stats.entries})
    tables = []
    if isinstance(sampler, FixedOrder):
        losses = metrics.decomposition(table, sampler.sets, z)
        findings["sum_of_step_total_correlations"] = float(sum(losses))
        tables.append(Table("Loss of each reveal step: E[TC(X_S | earlier)] (sums to KL(p||q))",
                            ("step", "positions", "loss (nats)"),
                            tuple((k + 1, " ".join(str(i) for i in s), float(v))
                                  for k, (s, v) in enumerate(zip(sampler.sets, losses)))))
    tables.append(_changed(target, q, top, names, letters))
    return Report(name="sampler_law", title=f"Exact law of {sampler!r}", tables=tuple(tables), findings=findings)


def _changed(target, q, top, names, letters):
    """The table of the outputs whose probability changed most."""
    diff = (q - target).ravel()
    order = [k for k in np.argsort(-np.abs(diff), kind="stable")[:top] if abs(diff[k]) > ROUNDING]
    rows = []
    for index in order:
        x = np.unravel_index(index, target.shape)
        rows.append((tokens(x, names, letters), float(target.ravel()[index]), float(q.ravel()[index]), float(diff[index])))
    title = ("Outputs whose probability changed most (p given the prompt vs the sampler's q)" if rows else
             f"No output's probability changed by more than {ROUNDING:g}: q = p up to rounding")
    return Table(title, ("sequence", "p", "q", "q - p"), tuple(rows))


def uniform_sampler_report(p, sampler, model=None, prompt=None, top=8, names=None, letters=False):
    """:func:`sampler_report` for a sampler without a mask (:mod:`refimpl.samplers.uniform_registry`) reading the
    exact model of kind ``model`` (default: its family's) or a trained one (a
    :class:`refimpl.models.uniform_mlp.UniformMLP`, without a prompt): with a prompt, the masked positions are decoded from p
    given the prompt's tokens — the context every uniform-state recipe conditions on — and the prompt's tokens kept."""
    from ..laws import joint
    from ..samplers.uniform_registry import DEFAULT_MODEL, MODELS, law_and_calls, uniform_family

    table = validate.law_table(p)
    vocab_size, length = table.shape[0], table.ndim
    z = None if prompt is None else validate.tokens(prompt, vocab_size, length, partial=True, name="prompt", ndim=1)
    masked = np.full(length, True) if z is None else z == vocab_size
    if not masked.any():
        raise InvalidParameterError("the prompt holds no mask: there is nothing to decode")
    target = metrics.given_tokens(table, z)
    decoded = table if z is None else joint.conditional_law(table, z)
    model = DEFAULT_MODEL[uniform_family(type(sampler).__name__).name] if model is None else model
    part, calls = law_and_calls(sampler, decoded, model)
    q = np.zeros(table.shape)
    q[tuple(slice(None) if m else int(t) for m, t in zip(masked, np.zeros(length, int) if z is None else z))] = part
    findings = dict(metrics.compare(target, q))
    shown = f"{model}: {MODELS[model]}" if isinstance(model, str) else repr(model)
    findings.update({"entropy_p": quantities.entropy(target), "total_correlation_p": quantities.total_correlation(target),
                     "expected_model_calls": float(calls), "model": shown})
    return Report(name="sampler_law", title=f"Exact law of {sampler!r} (no mask)",
                  tables=(_changed(target, q, top, names, letters),), findings=findings)
