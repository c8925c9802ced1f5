"""``refimpl limits`` and ``refimpl sweep``: what any sampler can reach on a law, and grids of exact computations
run as resumable tasks."""
import json
import sys

from .output import print_reports as _print_reports


def _cmd_limits(args, out):
    from ..experiments.limits_report import limits_report
    from .builders import load_data

    law, _, _ = load_data(args)
    report = limits_report(law.table, epsilon=args.epsilon, quick=args.quick)
    _print_reports([report], args.json, out)
    if args.figures:
        from ..experiments.limits_report import write_figures

        return announce(write_figures(report, args.figures), "limits")
    return 0


def announce(written, command):
    """Say which figures were written (exit 0), or that matplotlib is missing (exit 1)."""
    if written is None:
        print(f"refimpl {command}: --figures needs matplotlib, which is not installed; "
              "pip install 'refimpl[plot]' (the tables above are complete without it)", file=sys.stderr)
        return 1
    print(f"figures written: {', '.join(written)}", file=sys.stderr)
    return 0


def _cmd_sweep(args, out):
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


def add_study_commands(commands):
    """Add the two commands to the ``refimpl`` parser's subcommands."""
    from .builders import add_law_arguments

    limits = commands.add_parser(
        "limits", help="the least KL any oracle sampler reaches at T steps (step sizes, fixed sets, adaptive "
                       "policies), the fewest steps for a KL budget, and every sampler family against them")
    add_law_arguments(limits)
    limits.add_argument("--epsilon", type=float, default=0.01, help="the KL budget for the fewest steps (nats)")
    limits.add_argument("--quick", action="store_true", help="fewer sampler settings in the families table")
    limits.add_argument("--json", action="store_true", help="print machine-readable JSON")
    limits.add_argument("--figures", default=None, metavar="DIR", help="also write the parallelism profile plot here")
    limits.set_defaults(run=_cmd_limits)

    sweep = commands.add_parser(
        "sweep", help="run a grid of exact computations (a TOML or JSON spec) as resumable tasks on a process pool "
                      "or a Dask cluster")
    sweep.add_argument("spec", help="the sweep's spec (.toml or .json; refimpl.experiments.sweep_spec)")
    sweep.add_argument("--results", required=True, help="the directory the results go to (one per sweep)")
    sweep.add_argument("--workers", type=int, default=None, help="local processes (default: every core; 1: inline)")
    sweep.add_argument("--scheduler", default=None, help="a Dask scheduler's address, e.g. tcp://host:8786")
    sweep.add_argument("--quiet", action="store_true", help="no progress line")
    sweep.add_argument("--json", action="store_true", help="print the summary as JSON")
    sweep.set_defaults(run=_cmd_sweep)


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
