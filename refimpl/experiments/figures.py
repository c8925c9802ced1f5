"""The plots of the reports (issue #24; the ``plot`` extra, matplotlib): the frontier, KL against steps, the
coupled pairs' joint next to the product, the parallelism profile.  Every loss axis is symmetric-log — linear
below the smallest nonzero value — so an exact zero (a rounding residue under 1e-12 counts as one, as in the
tables) is drawn at 0, never at a made-up floor.  Each function
returns the paths it wrote, or None without matplotlib."""
import io
import os

from ..core.files import atomic_write_bytes
from .frontier import shown


def pyplot():
    """matplotlib.pyplot on the Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save(fig, path):
    """The figure as PNG, written atomically; the path.  The bounding box takes in what lies outside the axes (a
    legend beside them)."""
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())
    return path


def loss_axis(ax, values, label):
    """A symmetric-log y axis, linear below the smallest positive of ``values``, zero included in its range, and
    room above the largest (a marker there is drawn whole, not cut by the frame)."""
    positive = [v for v in values if v > 0]
    linear = min(positive) if positive else 1e-6
    ax.set_yscale("symlog", linthresh=linear)
    top = max(positive) if positive else linear
    ax.set_ylim(bottom=0.0, top=top * 1.6 if top > linear else 2 * linear)
    ax.set_ylabel(label)
    return linear


def family(label):
    """A sampler label's family: its name before the parameters."""
    return label.split("(", 1)[0]


def frontier_figure(report, folder):
    """``frontier.png``: KL(p || q) against expected model calls, one marker per family, the undominated settings
    joined by a line."""
    plt = pyplot()
    if plt is None:
        return None
    table = report.tables[0]
    by_tv = "by TV" in table.title
    column = 4 if by_tv else 3  # (sampler, E[NFE], tokens/call, KL, TV, incoherent, frontier, P(tie))
    rows = [(r[0], r[1], r[column], r[6] == "*") for r in table.rows if r[column] != float("inf")]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    markers = "osD^v<>pP*Xh"
    for n, name in enumerate(sorted({family(r[0]) for r in rows})):
        mine = [r for r in rows if family(r[0]) == name]
        ax.plot([r[1] for r in mine], [r[2] for r in mine], markers[n % len(markers)], linestyle="none", label=name,
                alpha=0.8)
    best = sorted((r[1], r[2]) for r in rows if r[3])
    ax.plot([b[0] for b in best], [b[1] for b in best], "k-", linewidth=1, label="undominated")
    ax.set_xscale("log")
    ax.set_xlabel("expected model calls E[NFE]")
    linear = loss_axis(ax, [r[2] for r in rows], "TV(p, q)" if by_tv else "KL(p || q) (nats)")
    ax.set_title(f"loss linear below {linear:.2g}: exact zeros at 0"
                 + (f"; {len(table.rows) - len(rows)} settings with infinite KL left out" if len(rows) < len(table.rows)
                    else ""), fontsize=8)
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5))  # beside the axes: covers no marker
    os.makedirs(folder, exist_ok=True)
    path = save(fig, os.path.join(folder, "frontier.png"))
    plt.close(fig)
    return [path]


def steps_figure(report, folder):
    """``kl_vs_steps.png`` from the prescriptions report: one panel per denoiser, KL against decoding steps, the
    block length told by colour (and a shift of ``JITTER`` steps per block, so settings at the same steps stand
    side by side) and the tokens per step by marker."""
    plt = pyplot()
    if plt is None:
        return None
    table = report.tables[0]
    names = table.headers[3:]
    blocks = sorted({r[0] for r in table.rows})
    per_step = sorted({str(r[1]) for r in table.rows}, key=lambda k: (k == "all", int(k) if k != "all" else 0))
    colours = plt.get_cmap("viridis")
    markers = dict(zip(per_step, "os^Dv<>p"))
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4), sharey=True, squeeze=False)
    values = [shown(r[3 + c]) for r in table.rows for c in range(len(names))]
    for c, (ax, name) in enumerate(zip(axes[0], names)):
        for b, block in enumerate(blocks):
            for k in per_step:
                mine = sorted((r[2], shown(r[3 + c])) for r in table.rows if r[0] == block and str(r[1]) == k)
                shift = JITTER * (b - (len(blocks) - 1) / 2)  # settings at the same steps side by side
                if mine:
                    ax.plot([m[0] + shift for m in mine], [m[1] for m in mine], markers[k], linestyle="none",
                            color=colours(b / max(1, len(blocks) - 1)), label=f"block {block}, {k}/step")
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("decoding steps")
        loss_axis(ax, values, "KL(p || q) (nats)" if c == 0 else "")
    handles, labels = axes[0][-1].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))  # beside: covers no point
    os.makedirs(folder, exist_ok=True)
    path = save(fig, os.path.join(folder, "kl_vs_steps.png"))
    plt.close(fig)
    return [path]


JITTER = 0.08


def coupled_figure(report, folder):
    """``coupled_pairs.png``: the joint law next to the product of its marginals (one parallel step), sequence by
    sequence — the product's bars where the joint has none are the incoherent samples."""
    plt = pyplot()
    if plt is None:
        return None
    rows = report.tables[1].rows  # (sequence, joint p, product q, in the data?)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    at = range(len(rows))
    ax.bar([x - 0.2 for x in at], [r[1] for r in rows], width=0.4, label="joint p")
    ax.bar([x + 0.2 for x in at], [r[2] for r in rows], width=0.4, label="product of marginals")
    ax.set_xticks(list(at))
    ax.set_xticklabels([r[0] for r in rows])
    ax.set_ylabel("probability")
    ax.set_xlabel("sequence")
    ax.legend(fontsize=7)
    os.makedirs(folder, exist_ok=True)
    path = save(fig, os.path.join(folder, "coupled_pairs.png"))
    plt.close(fig)
    return [path]


def profile_figure(report, folder):
    """``parallelism_profile.png`` from the limits report: the least KL against T for each optimum."""
    plt = pyplot()
    if plt is None:
        return None
    profile = report.tables[0]
    steps = [row[0] for row in profile.rows]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for column, label, style in PROFILE:
        ax.plot(steps, [shown(row[column]) for row in profile.rows], style, label=label)
    linear = loss_axis(ax, [shown(row[c]) for row in profile.rows for c, _, _ in PROFILE], "least KL(p || q) (nats)")
    ax.set_xticks(steps)
    ax.set_xlabel("steps T (model calls with the oracle)")
    ax.set_title(f"log axis, linear below {linear:.2g}: exact zeros at 0", fontsize=8)
    ax.legend(fontsize=7)
    os.makedirs(folder, exist_ok=True)
    path = save(fig, os.path.join(folder, "parallelism_profile.png"))
    plt.close(fig)
    return [path]


PROFILE = ((2, "(a) step sizes, order-averaged", "o--"), (3, "(a) its random-order law", "x:"),
           (5, "(b) fixed sets", "s-"), (6, "(c) adaptive", "^-"))
