r"""The paper's question one step further (issue #38, build 5): does leaving the mask behind keep the couplings the
mask loses, and at what cost in model calls?  On the coupled pairs, the paper's toy query and the Markov chain, the
absorbing samplers of the frontier (:mod:`refimpl.experiments.frontier`, the oracle, temperature 1) and the
uniform-state ones side by side, each with the exact KL(p || q), TV, incoherent mass and expected model calls of its
output law q.

The uniform-state samplers read the exact models of :mod:`refimpl.diffusion.uniform_oracles` — the best any training
can give them: Duo's ancestral steps with the leave-one-out posterior told the time (what the uniform NELBO trains),
diffusers' DiscreteDDIM with the posterior marginal told the time (what cross-entropy trains) and with the
time-agnostic model DiffusionGemma's recipes train, and DiffusionGemma's renoising sampler with that model.  With a
prompt (the toy query) a uniform-state sampler decodes the masked positions from the law given the prompt, the
context every public uniform recipe conditions on (SAMPLERS-2026.md section 1, "U").

The verdict per data law: the uniform-state settings with fewer expected calls than the L positions to decode
whose KL no absorbing setting reaches at as many calls or fewer.
"""
import numpy as np

from ..core import validate
from ..denoisers import oracle_denoiser
from ..laws import datasets, joint
from ..reports.tables import Report, Table
from ..samplers.plans import generation_region
from .frontier import default_samplers, frontier_rows, shown
from .toy import TOKENS, query, toy_sequences
from .uniform_rows import MODELS, uniform_frontier_rows, uniform_row, uniform_settings  # noqa: F401 (re-exported)

TOLERANCE = 1e-12


def data_laws():
    """(name, law, prompt) of the three data laws: the coupled pairs, the paper's toy query, the Markov chain."""
    toy = datasets.empirical(toy_sequences(), vocab_size=len(TOKENS), name="toy")
    return [("coupled pairs", datasets.coupled_pairs(), None), ("toy query [M] [M] C D [M]", toy, query()),
            ("Markov chain", datasets.named("markov"), None)]


def absorbing_rows(law, prompt, quick=False, executor=None):
    """The frontier's absorbing settings with the oracle at temperature 1 (without its tie-probability runs)."""
    table = validate.law_table(law)
    flags = np.full(table.ndim, True) if prompt is None else np.asarray(prompt) == table.shape[0]
    start, end = generation_region(flags, np.full(table.ndim, True))  # where LLaDA's blocks go, as the frontier's
    samplers = default_samplers(int(flags.sum()), end - start, quick=quick, prompted=prompt is not None,
                                prefix=not np.any(np.diff(flags.astype(np.int64)) < 0))
    rows = frontier_rows(table, oracle_denoiser(table), samplers, prompt, ties=False, executor=executor)
    return [{**row, "noise": "absorbing", "model": "oracle"} for row in rows]


def verdict(absorbing, uniform, length):
    """The uniform rows with fewer calls than ``length`` whose KL(p || q) is below every absorbing row's at as many
    calls or fewer (by more than the tolerance), each with that absorbing best."""
    out = []
    for row in uniform:
        if row["expected_calls"] >= length - TOLERANCE:
            continue
        rivals = [r["kl_p_q"] for r in absorbing if r["expected_calls"] <= row["expected_calls"] + TOLERANCE]
        best = min(rivals, default=float("inf"))
        if row["kl_p_q"] < best - TOLERANCE:
            out.append((row["label"], row["model"], row["expected_calls"], row["kl_p_q"], best))
    return out


def beyond_mask_report(quick=False, executor=None, laws=None):
    """One table of every setting on each data law (absorbing and uniform-state, by increasing calls) and the
    verdict: the uniform settings below L calls that reach a KL no absorbing setting reaches at their calls."""
    rows, verdicts, findings = [], [], {}
    for name, law, prompt in (data_laws() if laws is None else laws):
        table = validate.law_table(law)
        decoded = table if prompt is None else joint.conditional_law(table, prompt)
        length = decoded.ndim
        absorbing = absorbing_rows(table, prompt, quick, executor)
        uniform = [uniform_row(decoded, s, m) for s, m in uniform_settings(length, quick)]
        found = verdict(absorbing, uniform, length)
        findings[f"{name}: uniform settings below L calls beating every absorbing one"] = len(found)
        verdicts += [(name, *v) for v in found]
        for r in sorted(absorbing + uniform, key=lambda r: (r["expected_calls"], r["kl_p_q"])):
            rows.append((name, r["noise"], r["label"], r["model"], r["expected_calls"], shown(r["kl_p_q"]),
                         shown(r["tv"]), r["incoherent_mass"]))
    tables = [Table("Every setting's exact loss against its expected model calls (oracle models)",
                    ("data", "noise", "sampler", "model", "E[NFE]", "KL(p||q)", "TV", "incoherent"), tuple(rows)),
              Table("Uniform-state settings below L calls with a KL no absorbing setting reaches at as many calls",
                    ("data", "sampler", "model", "E[NFE]", "KL(p||q)", "best absorbing KL"), tuple(verdicts))]
    return Report(name="beyond-mask", title="Beyond the mask: absorbing and uniform-state decoding side by side",
                  tables=tuple(tables), findings=findings,
                  notes=("Uniform-state models are exact oracles: 'told the time' is the posterior at each call's "
                         "alpha (Duo's ancestral steps read the leave-one-out posterior, the uniform NELBO's minimiser; "
                         "DiscreteDDIM the posterior marginal); 'not told the time' is the time-agnostic minimiser of "
                         "the all-positions cross-entropy, t ~ U(1e-3, 1).",
                         "Duo's ancestral steps here use alpha(1) = 0 (noise_eps 0) and count the noise removal's call.",
                         "Renoise (DiffusionGemma) outputs an argmax canvas: a law on few sequences, often at an "
                         "infinite KL(p || q); its TV is finite."))


def beyond_mask_figure(report, folder):
    """``beyond_mask.png``: KL(p || q) against expected calls, a panel per data law, absorbing settings in grey and
    each uniform-state family in its own marker (settings at an infinite KL left out, counted in the title).  The
    path in a list, or None without matplotlib."""
    import os

    from .figures import family, loss_axis, pyplot, save

    plt = pyplot()
    if plt is None:
        return None
    rows = report.tables[0].rows  # (data, noise, sampler, model, E[NFE], KL, TV, incoherent)
    names = list(dict.fromkeys(r[0] for r in rows))
    kinds = sorted({(family(r[2]), r[3]) for r in rows if r[1] == "uniform"})  # one style each, in every panel
    styles = {kind: (marker, f"C{n}") for n, (kind, marker) in enumerate(zip(kinds, "osD^v<>p"))}
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8), squeeze=False)
    for ax, name in zip(axes[0], names):
        mine = [r for r in rows if r[0] == name and r[5] != float("inf")]
        grey = [r for r in mine if r[1] == "absorbing"]
        ax.plot([r[4] for r in grey], [r[5] for r in grey], ".", color="0.6", label="absorbing (oracle)")
        for kind, (marker, colour) in styles.items():
            own = sorted((r[4], r[5]) for r in mine if r[1] == "uniform" and (family(r[2]), r[3]) == kind)
            ax.plot([o[0] for o in own], [o[1] for o in own], marker + "-", color=colour, alpha=0.85,
                    label=f"{kind[0]}, {kind[1]}")
        ax.set_xscale("log")
        ax.set_xticks([c for c in (1, 2, 4, 8, 16, 32) if c <= 2 * max(r[4] for r in mine)])
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda x, _: f"{x:g}"))
        ax.set_xlabel("expected model calls E[NFE]")
        loss_axis(ax, [r[5] for r in mine], "KL(p || q) (nats)")
        left_out = sum(1 for r in rows if r[0] == name) - len(mine)
        ax.set_title(name + (f" ({left_out} at KL = inf left out)" if left_out else ""), fontsize=8)
    axes[0][-1].legend(fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5))
    os.makedirs(folder, exist_ok=True)
    path = save(fig, os.path.join(folder, "beyond_mask.png"))
    plt.close(fig)
    return [path]
