"""``refimpl paper``: every checkable claim of the paper, exactly, in one run."""
import os
import sys
import time

from .coupled import coupled_pair_demo
from .homogenisation import homogenisation_experiment
from .homogenisation import law as chain_law
from .near_ar import near_ar_experiment
from .prescriptions import TRAINING, prescriptions_experiment, train_models
from .toy import toy_experiment, toy_sequences


def _progress_printer(enabled):
    start = time.perf_counter()

    def progress(message):
        if enabled:
            print(f"\r[refimpl paper {time.perf_counter() - start:5.1f}s] {message:<60}", end="",
                  file=sys.stderr, flush=True)

    return progress


def train_toy_model(seed=0):
    from ..diffusion import schedules
    from ..models import mlp
    from ..models.train import TrainConfig, train

    model, _ = train(toy_sequences(), mlp.MLPConfig(5, 5, (128, 128), "gelu"),
                     TrainConfig(steps=2000, batch_size=256, lr=3e-3, seed=seed),
                     schedule=schedules.Polynomial(2.0), progress=False)
    return model


def run_paper(progress=None, models=None):
    """All experiments' reports, in the order the paper makes its claims.

    ``models`` (a dict), if given, receives the trained MLPs by name ("toy" and the training strategies).
    """
    progress = _progress_printer(sys.stderr.isatty()) if progress is None else progress
    reports = [coupled_pair_demo()]
    progress("toy experiment: training the MLP on the 100 sequences")
    toy_model = train_toy_model()
    reports.append(toy_experiment(toy_model))
    raw = {"toy": toy_model}
    tabulated = train_models(chain_law(), progress=progress, raw=raw)
    progress("homogenisation with distance")
    reports.append(homogenisation_experiment(tabulated[TRAINING[0][0]]))
    progress("near-autoregressive decoding")
    reports.append(near_ar_experiment())
    reports.append(prescriptions_experiment(tabulated, progress=progress))
    if models is not None:
        models.update(raw)
    progress("done")
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return reports


def write_figures(reports, folder):
    """PNG plots (marginal TV against distance; KL against steps) into ``folder``; needs matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    import io

    from ..core.files import atomic_write_bytes

    os.makedirs(folder, exist_ok=True)
    by_name = {r.name: r for r in reports}
    written = []
    homog = by_name["homogenisation"].tables[0]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy([r[0] for r in homog.rows], [r[1] for r in homog.rows], "o-", label="exact TV to pi")
    ax.semilogy([r[0] for r in homog.rows], [r[2] for r in homog.rows], "--", label="bound C|lambda|^d")
    if len(homog.rows[0]) > 4:
        ax.semilogy([r[0] for r in homog.rows], [r[4] for r in homog.rows], "s:", label="trained MLP")
    ax.set_xlabel("distance d from the observed token")
    ax.set_ylabel("TV(marginal, stationary)")
    ax.legend()
    written.append(_save(fig, os.path.join(folder, "marginal_tv_vs_distance.png"), atomic_write_bytes, io))
    table = by_name["prescriptions"].tables[0]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for column, name in enumerate(table.headers[3:], start=3):
        points = sorted((row[2], row[column]) for row in table.rows)
        ax.plot([p[0] for p in points], [max(p[1], 1e-6) for p in points], "o", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("decoding steps")
    ax.set_ylabel("KL(p || q) (nats)")
    ax.legend(fontsize=7)
    written.append(_save(fig, os.path.join(folder, "kl_vs_steps.png"), atomic_write_bytes, io))
    plt.close("all")
    return written


def _save(fig, path, atomic_write_bytes, io):
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=120)
    atomic_write_bytes(path, buffer.getvalue())
    return path
