"""``refimpl limits``, ``refimpl beyond-mask`` and ``refimpl sweep``: what any sampler can reach on a law, what
leaving the mask changes, and grids of exact computations run as resumable tasks (their flags: :mod:`refimpl.cli.parser`)."""
import json
import sys

from .output import announce_figures
from .output import print_reports as _print_reports


def run_limits(args, out, status):
    """``refimpl limits``."""
    from ..experiments.limits_report import limits_report, write_figures
    from .builders import load_data

    law, _, _ = load_data(args)
    status(f"the limits and every family on {law.vocab_size}**{law.length} sequences")
    report = limits_report(law.table, epsilon=args.epsilon, quick=args.quick, progress=status)
    status.close()
    _print_reports([report], args.json, out)
    if args.figures:
        announce_figures(write_figures(report, args.figures))
    return 0


def run_bounds(args, out, status):
    """``refimpl bounds``."""
    from ..experiments.bounds import bounds_figure, bounds_report
    from .builders import load_data

    law, _, _ = load_data(args)
    status(f"the published bounds on {law.vocab_size}**{law.length} sequences"
           + (f" and a search of random laws ({args.search} per space)" if args.search else ""))
    report = bounds_report(law.table, samples=args.search, seed=args.seed)
    status.close()
    _print_reports([report], args.json, out)
    if args.figures:
        announce_figures(bounds_figure(report, args.figures))
    return 0


def run_beyond_mask(args, out, status):
    """``refimpl beyond-mask``."""
    from ..experiments.beyond_mask import beyond_mask_figure, beyond_mask_report

    status("absorbing and uniform-state samplers on three data laws")
    report = beyond_mask_report(quick=args.quick)
    status.close()
    _print_reports([report], args.json, out)
    if args.figures:
        announce_figures(beyond_mask_figure(report, args.figures))
    return 0


def train_uniform_model(args, law, hidden, out, status):
    """``refimpl train --noise uniform``: the MLP without a mask on its loss, against the loss's exact minimiser."""
    import numpy as np

    from ..diffusion.uniform_elbo import continuous_nelbo, loo_oracle
    from ..diffusion.uniform_oracles import time_agnostic_oracle, training_loss
    from ..laws import quantities
    from ..models import uniform_mlp
    from ..reports.tables import Report

    table = np.asarray(law.table)
    config = uniform_mlp.UniformTrainConfig(args.uniform_loss, args.steps, args.batch_size, args.lr, hidden,
                                            args.activation, seed=args.seed)
    status(f"training a model without a mask on {config.loss}, {config.steps} steps")
    model, history = uniform_mlp.train_uniform(table, config)
    findings = {"steps": config.steps, "final_loss_mean_last_100": float(np.mean(history[-100:]))}
    if config.timed:
        status("the exact NELBO")
        grid = [0.1, 0.3, 0.5, 0.7, 0.9]
        findings.update({"exact_nelbo": continuous_nelbo(table, model.at), "entropy_of_data_law":
                         quantities.entropy(table),
                         "tv_to_leave_one_out_max_mean": uniform_mlp.distance_to_oracle(
                             model, lambda a: loo_oracle(table, a), grid)})
        findings["nelbo_gap"] = findings["exact_nelbo"] - findings["entropy_of_data_law"]
    else:
        status("the exact training loss")
        oracle = time_agnostic_oracle(table)
        findings.update({"exact_training_loss": training_loss(table, model),
                         "oracle_training_loss": training_loss(table, oracle),
                         "tv_to_time_agnostic_oracle_max_mean": uniform_mlp.distance_to_oracle(model, oracle)})
    if args.out:
        uniform_mlp.save(args.out, model, history)
    status.close()
    _print_reports([Report(name="train", title=f"Trained {model!r}" + (f" -> {args.out}" if args.out else ""),
                           tables=(), findings=findings)], args.json, out)
    return 0


def run_sweep(args, out, status):
    """``refimpl sweep`` (its own progress line, off with ``--quiet``)."""
    from ..experiments.sweep import sweep

    summary = sweep(args.spec, args.results, workers=args.workers, scheduler=args.scheduler,
                    progress=None if args.quiet else sys.stderr)
    if args.json:
        json.dump(summary, out, indent=2)
        out.write("\n")
    else:
        out.write(f"{summary['done']} tasks run, {summary['skipped']} already done, {len(summary['failed'])} failed, "
                  f"of {summary['total']}; " + (f"results: {summary['results']}\n" if summary["results"] else
                                                "results.json not written: run the sweep again when fixed\n"))
        for failure in summary["failed"]:
            out.write(f"failed: {json.dumps(failure['inputs'], sort_keys=True)}: {failure['error']}\n")
    return 1 if summary["failed"] else 0


def frontier_sweep(args, law, prompt):
    """``refimpl frontier --results DIR``: the rows from a resumable sweep of the same settings (a law from a data
    file is saved as ``DIR/law.npy`` first, so that the sweep's tasks can name it)."""
    import os

    import numpy as np

    from ..core.errors import InvalidParameterError
    from ..core.files import atomic_write_bytes
    from ..experiments.sweep import frontier_sweep_rows

    if prompt is not None:
        raise InvalidParameterError("--results runs the frontier as a sweep, whose tasks take no prompt; "
                                    "drop --prompt or --results")
    if getattr(args, "data_file", None):
        import io

        buffer = io.BytesIO()
        np.save(buffer, np.asarray(law.table), allow_pickle=False)
        data = os.path.abspath(os.path.join(args.results, "law.npy"))
        atomic_write_bytes(data, buffer.getvalue())
    else:
        data = os.path.abspath(args.data) if args.data.endswith(".npy") else args.data
    spec_law = {"data": data, "vocab_size": law.vocab_size, "length": law.length, "seed": args.seed,
                "concentration": args.concentration}
    denoiser = args.denoiser if args.denoiser in (None, "oracle") else os.path.abspath(args.denoiser)
    return lambda samplers: frontier_sweep_rows(spec_law, samplers, args.results, denoiser or "oracle",
                                                workers=args.workers, scheduler=args.scheduler,
                                                progress=None if args.json else sys.stderr)
