"""``refimpl ...`` commands.  Every command prints a human table by default and JSON with ``--json``; its status
goes to stderr (:mod:`refimpl.cli.status`).  What can be checked before the work is checked first: the numbers by
the parser (:mod:`refimpl.cli.kinds`), then the output folders and the figures' matplotlib (:func:`_check_outputs`).

This module imports no numpy when it is imported, so that :func:`entry_point` can choose the BLAS threads first.
"""
import os
import sys
import traceback

from ..core.errors import InvalidParameterError, RefimplError
from .output import announce_figures
from .output import print_reports as _print_reports

BLAS_TIMEOUT_VARIABLES = ("OPENBLAS_THREAD_TIMEOUT", "GOTO_THREAD_TIMEOUT")


def _cmd_paper(args, out, status):
    from ..experiments.paper import run_paper, write_figures

    reports = run_paper(progress=status, workers=args.workers)
    status.close()
    _print_reports(reports, args.json, out)
    if args.figures:
        announce_figures(write_figures(reports, args.figures))
    return 0


def _cmd_law(args, out, status):
    from ..experiments.sampler_law import sampler_report, uniform_sampler_report
    from .builders import build_denoiser, build_sampler, is_uniform, load_data, parse_prompt

    law, names, _ = load_data(args)
    prompt = parse_prompt(args.prompt, law.vocab_size, law.length, names)
    sampler = build_sampler(args, law.length)
    status(f"exact law of {sampler!r} on {law.vocab_size}**{law.length} sequences")
    if is_uniform(args.sampler):
        model = args.uniform_model
        if args.denoiser != "oracle":
            from ..models.uniform_mlp import load

            if args.uniform_model is not None or prompt is not None:
                raise InvalidParameterError("a trained uniform-state model (--denoiser FILE) takes neither "
                                            "--uniform-model nor --prompt (it has no context input)")
            model = load(args.denoiser)
            if (model.vocab_size, model.length) != (law.vocab_size, law.length):
                raise InvalidParameterError(f"{args.denoiser} is a model for V={model.vocab_size}, L={model.length}; "
                                            f"the law has V={law.vocab_size}, L={law.length}")
        report = uniform_sampler_report(law, sampler, model, prompt, names=names, letters=args.letters)
    else:
        if args.uniform_model is not None:
            raise InvalidParameterError(f"--uniform-model applies to the uniform-state families only, not "
                                        f"{args.sampler}")
        report = sampler_report(law, build_denoiser(args.denoiser, law), sampler, prompt, names=names,
                                letters=args.letters)
    status.close()
    _print_reports([report], args.json, out)
    return 0


def _cmd_frontier(args, out, status):
    from ..experiments.executors import local_executor
    from ..experiments.frontier import frontier_report
    from .builders import build_denoiser, load_data, parse_prompt

    law, names, _ = load_data(args)
    prompt = parse_prompt(args.prompt, law.vocab_size, law.length, names)
    denoiser = build_denoiser(args.denoiser, law)
    if args.results:
        from .studies import frontier_sweep

        rows_of, executor, close = frontier_sweep(args, law, prompt), None, lambda: None
    else:
        rows_of = None
        executor, close = local_executor(args.workers, args.scheduler)
    status(f"every family's settings on {law.vocab_size}**{law.length} sequences")
    try:
        report = frontier_report(law.table, denoiser, prompt=prompt, temperature=args.temperature, by=args.by,
                                 executor=executor, rows_of=rows_of, progress=status, uniform=args.uniform)
    finally:
        close()
    status.close()
    _print_reports([report], args.json, out)
    if args.figures:
        from ..experiments.figures import frontier_figure

        announce_figures(frontier_figure(report, args.figures))
    return 0


def _cmd_train(args, out, status):
    import numpy as np

    from ..diffusion import elbo
    from ..laws import quantities
    from ..models import mlp
    from ..models.train import TrainConfig, train
    from ..reports.tables import Report
    from .builders import SCHEDULES, load_data

    law, names, sequences = load_data(args)
    data = law if sequences is None else sequences
    try:
        hidden = tuple(int(h) for h in args.hidden.split(","))
    except ValueError:
        raise InvalidParameterError(f"--hidden must look like 128,128, got {args.hidden!r}") from None
    if args.noise == "uniform":
        from .studies import train_uniform_model

        return train_uniform_model(args, law, hidden, out, status)
    model_config = mlp.MLPConfig(law.vocab_size, law.length, hidden, args.activation)
    config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, masking=args.masking,
                         block_size=args.block_size, seed=args.seed, checkpoint_every=args.checkpoint_every)
    model, history = train(data, model_config, config, SCHEDULES[args.schedule](), checkpoint_path=args.out,
                           resume=args.resume, progress=False,
                           on_step=lambda step, loss: status(f"step {step} of {config.steps}, loss {loss:.4f}",
                                                             detail=True))
    findings = {"steps": config.steps, "final_loss_mean_last_100": float(np.mean(history[-100:]))}
    if law.vocab_size ** law.length <= 4**8:
        status("the exact NELBO")
        findings.update({"exact_nelbo": elbo.nelbo(model, law), "entropy_of_data_law": quantities.entropy(law)})
        findings["nelbo_gap"] = findings["exact_nelbo"] - findings["entropy_of_data_law"]
    status.close()
    report = Report(name="train", title=f"Trained {model!r}" + (f" -> {args.out}" if args.out else ""),
                    tables=(), findings=findings,
                    notes=(f"vocabulary: {' '.join(names)}",) if names else ())
    _print_reports([report], args.json, out)
    return 0


def _cmd_verify(args, out, status):
    from ..interop.verify import load_target, verify_denoiser, verify_sampler
    from ..reports.tables import Report, Table
    from .builders import build_denoiser, build_law, build_sampler, parse_prompt

    law = build_law(args)
    target = load_target(args.target)
    if args.sampler is None:
        status("the target's denoiser against the oracle, every partial sequence")
        result = verify_denoiser(target(law.table), law, tolerance=args.tolerance, letters=args.letters)
        kind = "denoiser"
    else:
        prompt = parse_prompt(args.prompt, law.vocab_size, law.length)
        sampler = build_sampler(args, law.length)
        result = verify_sampler(target, sampler, build_denoiser(args.denoiser, law), law, n=args.samples,
                                seed=args.seed, prompt=prompt, alpha=args.alpha, progress=status,
                                letters=args.letters)
        kind = f"sampler, as {sampler!r}"
    status.close()
    tables = []
    for key in ("most_over_represented", "most_under_represented"):
        if result.get(key):
            tables.append(Table(key.replace("_", " "), ("sequence", "observed", "expected"),
                                tuple((r["sequence"], r["observed"], r["expected"]) for r in result[key])))
    findings = {k: v for k, v in result.items() if not k.startswith("most_")}
    verdict = "AGREES" if result["passed"] else "DIFFERS"
    _print_reports([Report(name="verify", title=f"{args.target} ({kind}): {verdict}", tables=tuple(tables),
                           findings=findings)], args.json, out)
    return 0 if result["passed"] else 1


def _cmd_vectors(args, out, status):
    from ..interop import vectors
    from ..reports.tables import Report, Table

    if args.out:
        status("building every case")
        vectors.write(args.out)
        status.close()
        report = Report(name="vectors", title=f"golden vectors written to {args.out}", tables=(),
                        findings={"schema": vectors.SCHEMA, "cases": len(vectors.build()["cases"])})
        _print_reports([report], args.json, out)
        return 0
    status(f"recomputing the cases of {args.check}")
    problems = vectors.check(args.check)
    status.close()
    report = Report(name="vectors", title=f"{args.check}: {'AGREES' if not problems else 'DIFFERS'}",
                    tables=(Table("differences", ("field: file vs recomputed",), tuple((p,) for p in problems)),)
                    if problems else (), findings={"differences": len(problems), "passed": not problems})
    _print_reports([report], args.json, out)
    return 0 if not problems else 1


def _check_outputs(args):
    """Before any work: the figures' matplotlib and every folder or file the command will write into."""
    from ..core.files import writable_file, writable_folder

    if args.command == "vectors" and bool(args.out) == bool(args.check):
        raise InvalidParameterError("give exactly one of --out FILE (write) or --check FILE (recompute and compare)")
    if getattr(args, "figures", None):
        from ..experiments.figures import pyplot

        if pyplot() is None:
            raise InvalidParameterError("--figures needs matplotlib, which is not installed: pip install "
                                        "'refimpl[plot]', or run without --figures")
        writable_folder(args.figures, "--figures")
    if getattr(args, "results", None):
        writable_folder(args.results, "--results")
    if args.command in ("vectors", "train") and args.out:
        writable_file(args.out, "--out")


def _commands():
    from .studies import run_beyond_mask, run_bounds, run_limits, run_sweep

    return {"paper": _cmd_paper, "law": _cmd_law, "frontier": _cmd_frontier, "limits": run_limits,
            "beyond-mask": run_beyond_mask, "bounds": run_bounds,
            "sweep": run_sweep, "verify": _cmd_verify, "vectors": _cmd_vectors, "train": _cmd_train}


def main(argv=None, out=None):
    """Run ``refimpl`` with ``argv`` (default: the process's), printing to ``out`` (default stdout); the exit status:
    0 done (or agrees), 1 differs, 2 bad input, 3 a bug in refimpl."""
    from .parser import build_parser
    from .status import Status

    out = sys.stdout if out is None else out
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        print("refimpl: error: no command given (see 'refimpl --help')", file=sys.stderr)
        return 2
    status = Status.for_arguments(args.command, args)
    try:
        _check_outputs(args)
        return _commands()[args.command](args, out, status)
    except RefimplError as error:
        status.close()
        if args.debug:
            traceback.print_exc()
        print(f"refimpl {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug in refimpl: still one line, the traceback with --debug
        status.close()
        if args.debug:
            traceback.print_exc()
        print(f"refimpl {args.command}: internal error: {type(error).__name__}: {_one_line(error)} "
              f"(rerun with --debug for the traceback and please report it)", file=sys.stderr)
        return 3


def _one_line(error):
    return " ".join(str(error).split())


def quiet_blas_threads(environ=None):
    """Let OpenBLAS's idle threads sleep after 2**4 cycles instead of spinning for 2**28
    (``OPENBLAS_THREAD_TIMEOUT=4``) unless the user chose (it or ``GOTO_THREAD_TIMEOUT`` set): the same threads
    compute the same bits, but while another process holds a core the spinning ones no longer take turns with it
    (``refimpl paper`` with another process on the other core: 2.29x its quiet time without it, 1.20x with it;
    docs/PERFORMANCE.md, "BLAS threads on a shared machine").
    Effective only before numpy is imported; returns whether it set it."""
    environ = os.environ if environ is None else environ
    if any(name in environ for name in BLAS_TIMEOUT_VARIABLES) or "numpy" in sys.modules:
        return False
    environ["OPENBLAS_THREAD_TIMEOUT"] = "4"
    return True


def entry_point():
    """The ``refimpl`` console script (and ``python -m refimpl``)."""
    quiet_blas_threads()
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `refimpl paper --json | head`: the reader left, nothing is wrong
        code = 0
        sys.stdout = None
    sys.exit(code)
