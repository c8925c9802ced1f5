r"""The published theory of parallel decoding on one data law (issue #39, build 5; ../shared/THEORY.md): each bound
that applies, its value, the exact quantity it bounds and their ratio (tightness), and — over a search of random laws
— the worst ratio and the smallest law reaching it; the printed forms that fail, with the law they fail on.  The
report behind ``refimpl bounds``.  Nats.

Rows (statement: exact quantity <= bound):

- W6: :math:`H(0,1) \le \min(TC, DTC)`; W7: :math:`H^{card}(0,d) \le 2H(0,1)`; W8: :math:`\mathrm{DHW} \le
  \frac{e}{e-1}H(0,1)` and :math:`\mathrm{DHW} \le \min(TC, DTC)` (:mod:`refimpl.limits.ugc`);
- W13: the Bernoulli sampler on the Geo grid of [1/d, 1 - 1/d] with exact ends, N steps (N >= its log-odds span):
  KL :math:`\le (2H(t_0, T)/N)\log(\psi(T)/\psi(t_0))`;
- CCL8 / LC1: the best T-step sizes' expected KL :math:`\le (s_{max} - 1)Z_n \le` Li and Cai's bound;
- CCL5: Theorem 9's TC schedule at :math:`\epsilon = TC` (true TC as its estimate): expected KL :math:`\le \epsilon`.

Misprints shown on the law: Corollary 34's printed equality against Theorem 16's value (k = 2).
"""
import math

import numpy as np

from ..core import validate
from ..denoisers import oracle_denoiser
from ..engine import exact_law
from ..laws import quantities
from ..limits import chen, ugc
from ..limits.optimal import step_size_optima
from ..limits.step_sizes import order_averaged_kl
from ..reports.tables import Report, Table
from ..samplers.bernoulli import Bernoulli, geometric_times

SIZES = [(2, 2), (2, 3), (3, 2), (2, 4), (3, 3), (4, 2), (2, 5)]  # the search's spaces, smallest first
CONCENTRATIONS = (0.1, 0.5, 2.0)


def bound_rows(p) -> list:
    """``[(kind, statement, exact, bound)]`` for the law ``p`` (each exact <= bound when the statement holds); ``kind``
    names the bound apart from this law's parameters (the search groups by it)."""
    table = validate.law_table(p)
    d = table.ndim
    tc, dtc = quantities.total_correlation(table), quantities.dual_total_correlation(table)
    whole, card, effective = ugc.ugc(table, 0.0, 1.0), ugc.ugc_card(table, 0, d), ugc.dhw(table)
    rows = [("W6", "W6 H(0,1) <= min(TC, DTC)", whole, min(tc, dtc)),
            ("W7", "W7 H^card(0,d) <= 2 H(0,1)", card, 2 * whole),
            ("W8 e/(e-1)", "W8 DHW <= e/(e-1) H(0,1)", effective, math.e / (math.e - 1) * whole),
            ("W8 min", "W8 DHW <= min(TC, DTC)", effective, min(tc, dtc))]
    if d >= 3:
        start, end = 1 / d, 1 - 1 / d
        span = math.log((end / (1 - end)) / (start / (1 - start)))
        steps = max(1, math.ceil(span))
        q = exact_law(oracle_denoiser(table), Bernoulli(geometric_times(start, end, steps)), d, table.shape[0])
        rows.append(("W13", f"W13 Geo grid, N={steps}: KL <= (2H/N) log odds span", quantities.kl(table, q),
                     2 * ugc.ugc(table, start, end) / steps * span))
    for steps, (value, sizes) in enumerate(step_size_optima(table), start=1):
        if 1 < steps < d:
            first, second, third = chen.li_cai_chain(table, sizes)
            rows.append(("CCL8/LC1", f"CCL8/LC1 best {steps}-step sizes {list(sizes)}: E KL <= Li-Cai", value, third))
    if tc > 0:
        sizes = chen.tc_schedule(d, tc, tc)
        rows.append(("CCL5", f"CCL5 TC schedule, eps = TC ({len(sizes)} steps): E KL <= eps",
                     order_averaged_kl(table, sizes), tc))
    return rows


def misprint_rows(p) -> list:
    """``[(statement, as printed, correct)]`` on ``p`` (rows where the two differ are the misprint's witness)."""
    table = validate.law_table(p)
    d = table.ndim
    if d < 3:
        return []
    z = np.concatenate([[0.0], ugc.increments(table)])
    return [("CCL9 Corollary 34, k = 2: (n-k+1)(Z_n - Z_k) printed as equal to E KL",
             (d - 1) * (z[d] - z[2]), order_averaged_kl(table, [1, d - 1]))]


def search(samples: int = 20, seed: int = 0) -> list:
    """Over ``samples`` Dirichlet laws per space and concentration, smallest spaces first: per bound, ``(statement
    kind, worst ratio, the first law reaching it as (V, L, concentration, index))``."""
    rng = np.random.default_rng(seed)
    worst = {}
    for vocab_size, length in SIZES:
        for concentration in CONCENTRATIONS:
            for index in range(samples):
                table = rng.dirichlet(np.full(vocab_size ** length, concentration)).reshape((vocab_size,) * length)
                for kind, _, exact, bound in bound_rows(table):
                    ratio = exact / bound if bound > 0 else (0.0 if exact <= 1e-12 else math.inf)
                    if ratio > worst.get(kind, (-1.0,))[0] + 1e-12:
                        worst[kind] = (ratio, (vocab_size, length, concentration, index))
    return sorted((kind, ratio, where) for kind, (ratio, where) in worst.items())


def bounds_report(p, samples: int = 0, seed: int = 0) -> Report:
    """The bounds on ``p`` (and with ``samples`` > 0 the search over random laws) as a report."""
    rows = bound_rows(p)
    tables = [Table("Each bound on this law: the exact quantity, the bound, their ratio (1: tight)",
                    ("statement", "exact", "bound", "ratio", "holds"),
                    tuple((s, e, b, e / b if b > 0 else float("nan"), "yes" if e <= b + 1e-12 else "NO")
                          for _, s, e, b in rows))]
    printed = misprint_rows(p)
    if printed:
        tables.append(Table("Printed forms that are misprints, on this law", ("statement", "as printed", "correct"),
                            tuple(printed)))
    findings = {"bounds": len(rows), "violated": sum(1 for _, _, e, b in rows if e > b + 1e-12)}
    if samples:
        found = search(samples, seed)
        tables.append(Table(f"Worst ratio over random Dirichlet laws ({samples} per space and concentration)",
                            ("bound", "worst ratio", "first law reaching it (V, L, concentration, draw)"),
                            tuple((kind, ratio, str(where)) for kind, ratio, where in found)))
        findings["worst_ratio_over_search"] = max(ratio for _, ratio, _ in found)
    return Report(name="bounds", title="The published bounds of parallel decoding on this law", tables=tuple(tables),
                  findings=findings,
                  notes=("Statements as ../shared/THEORY.md numbers them; proofs/ugc.md, proofs/chen.md and "
                         "proofs/serial_depth.md say how refimpl checks each.",))


def bounds_figure(report, folder):
    """``bounds.png``: each bound's exact quantity against the bound (a horizontal bar of their ratio, 1 = tight).
    The path in a list, or None without matplotlib."""
    import os

    from .figures import pyplot, save

    plt = pyplot()
    if plt is None:
        return None
    rows = [r for r in report.tables[0].rows if r[2] > 0]  # (statement, exact, bound, ratio, holds)
    fig, ax = plt.subplots(figsize=(7.0, 0.35 * len(rows) + 1.2))
    ax.barh(range(len(rows)), [r[3] for r in rows], color=["C0" if r[4] == "yes" else "C3" for r in rows])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(1.0, color="k", linewidth=1)
    ax.set_xlim(0, max(1.05, max(r[3] for r in rows) * 1.05) if rows else 1.05)
    ax.set_xlabel("exact quantity / bound (1: tight)")
    os.makedirs(folder, exist_ok=True)
    path = save(fig, os.path.join(folder, "bounds.png"))
    plt.close(fig)
    return [path]
