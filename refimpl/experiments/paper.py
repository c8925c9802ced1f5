"""``refimpl paper``: every checkable claim of the paper, exactly, in one run."""
import contextlib
import os
import sys
import time

from ..core import validate
from ..diffusion import schedules
from ..models import mlp
from ..models.train import TrainConfig, train
from . import figures
from .coupled import coupled_pair_demo
from .executors import InlineExecutor, single_threaded_pool
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


def train_toy_model(seed=0, steps=2000):
    model, _ = train(toy_sequences(), mlp.MLPConfig(5, 5, (128, 128), "gelu"),
                     TrainConfig(steps=steps, batch_size=256, lr=3e-3, seed=seed),
                     schedule=schedules.Polynomial(2.0), progress=False)
    return model


def run_paper(progress=None, models=None, workers=1, training_steps=None):
    """All experiments' reports, in the order the paper makes its claims.

    ``models`` (a dict), if given, receives the trained MLPs by name ("toy" and the training strategies).
    ``workers`` > 1: the four trainings run side by side on that many processes, each with one BLAS thread
    (:func:`refimpl.experiments.executors.single_threaded_pool`) — about 1.5x faster on two cores, and the trained
    models' numbers differ from the default's in their last digits (a matrix product's rounding depends on how
    many BLAS threads share it); every exact number is the same.  ``training_steps``: every MLP trained for that
    many steps instead of the paper's (2000 for the toy model, 1500 for the strategies'): a quick run whose exact
    numbers are the paper's and whose trained models are not.
    """
    own_line = progress is None and sys.stderr.isatty()
    progress = _progress_printer(own_line) if progress is None else progress
    count = validate.integer(workers, "workers", 1)
    quick = {} if training_steps is None else {"steps": validate.integer(training_steps, "training_steps", 1)}
    progress("training the toy MLP and the three strategies' MLPs")
    with (single_threaded_pool(count) if count > 1 else contextlib.nullcontext(None)) as executor:
        toy_future = (executor or InlineExecutor()).submit(train_toy_model, **quick)
        raw = {}
        tabulated = train_models(chain_law(), progress=progress, raw=raw, executor=executor, **quick)
        toy_model = toy_future.result()
    reports = [coupled_pair_demo()]
    progress("toy experiment")
    reports.append(toy_experiment(toy_model))
    progress("homogenisation with distance")
    reports.append(homogenisation_experiment(tabulated[TRAINING[0][0]]))
    progress("near-autoregressive decoding")
    reports.append(near_ar_experiment())
    reports.append(prescriptions_experiment(tabulated, progress=progress))
    if models is not None:
        models.update({"toy": toy_model, **raw})
    progress("done")
    if own_line:
        print(file=sys.stderr)
    return reports


def write_figures(reports, folder):
    """PNG plots into ``folder`` (refimpl.experiments.figures), for the reports present: the coupled pairs' joint
    next to the product, KL against steps (block length and tokens per step told apart), the marginal TV against
    distance; None without matplotlib."""
    plt = figures.pyplot()
    if plt is None:
        return None
    os.makedirs(folder, exist_ok=True)
    by_name = {r.name: r for r in reports}
    written = figures.coupled_figure(by_name["coupled_pairs"], folder) if "coupled_pairs" in by_name else []
    if "prescriptions" in by_name:
        written += figures.steps_figure(by_name["prescriptions"], folder)
    if "homogenisation" not in by_name:
        return written
    homog = by_name["homogenisation"].tables[0]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy([r[0] for r in homog.rows], [r[1] for r in homog.rows], "o-", label="exact TV to pi")
    ax.semilogy([r[0] for r in homog.rows], [r[2] for r in homog.rows], "--", label="bound C|lambda|^d")
    if len(homog.rows[0]) > 4:
        ax.semilogy([r[0] for r in homog.rows], [r[4] for r in homog.rows], "s:", label="trained MLP")
    ax.set_xlabel("distance d from the observed token")
    ax.set_ylabel("TV(marginal, stationary)")
    ax.legend()
    written.append(figures.save(fig, os.path.join(folder, "marginal_tv_vs_distance.png")))
    plt.close(fig)
    return written
