"""``refimpl ...`` commands.  Every command prints a human table by default and JSON with ``--json``."""
import argparse
import sys
import traceback

import numpy as np

from ..core.errors import InvalidParameterError, RefimplError
from .output import print_reports as _print_reports
from .studies import add_study_commands


def _cmd_paper(args, out):
    from ..experiments.paper import run_paper, write_figures

    reports = run_paper(workers=args.workers)
    _print_reports(reports, args.json, out)
    if args.figures:
        written = write_figures(reports, args.figures)
        if written is None:
            print("refimpl paper: --figures needs matplotlib, which is not installed; "
                  "pip install 'refimpl[plot]' (the tables above are complete without it)", file=sys.stderr)
            return 1
        print(f"figures written: {', '.join(written)}", file=sys.stderr)
    return 0


def _cmd_law(args, out):
    from ..experiments.sampler_law import sampler_report
    from .builders import build_denoiser, build_sampler, load_data, parse_prompt

    law, names, _ = load_data(args)
    prompt = parse_prompt(args.prompt, law.vocab_size, law.length, names)
    sampler = build_sampler(args, law.length)
    report = sampler_report(law, build_denoiser(args.denoiser, law), sampler, prompt, names=names)
    _print_reports([report], args.json, out)
    return 0


def _cmd_frontier(args, out):
    from ..experiments.frontier import frontier_report
    from .builders import build_denoiser, load_data, parse_prompt

    law, names, _ = load_data(args)
    prompt = parse_prompt(args.prompt, law.vocab_size, law.length, names)
    from ..experiments.executors import local_executor

    if args.results:
        from .studies import frontier_sweep

        rows_of, executor, close = frontier_sweep(args, law, prompt), None, lambda: None
    else:
        rows_of = None
        executor, close = local_executor(args.workers, args.scheduler)
    try:
        report = frontier_report(law.table, build_denoiser(args.denoiser, law), prompt=prompt,
                                 temperature=args.temperature, by=args.by, executor=executor, rows_of=rows_of)
    finally:
        close()
    _print_reports([report], args.json, out)
    if args.figures:
        from ..experiments.figures import frontier_figure
        from .studies import announce

        return announce(frontier_figure(report, args.figures), "frontier")
    return 0


def _cmd_train(args, out):
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
    model_config = mlp.MLPConfig(law.vocab_size, law.length, hidden, args.activation)
    config = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, masking=args.masking,
                         block_size=args.block_size, seed=args.seed, checkpoint_every=args.checkpoint_every)
    model, history = train(data, model_config, config, SCHEDULES[args.schedule](), checkpoint_path=args.out,
                           resume=args.resume)
    findings = {"steps": config.steps, "final_loss_mean_last_100": float(np.mean(history[-100:]))}
    if law.vocab_size ** law.length <= 4**8:
        findings.update({"exact_nelbo": elbo.nelbo(model, law), "entropy_of_data_law": quantities.entropy(law)})
        findings["nelbo_gap"] = findings["exact_nelbo"] - findings["entropy_of_data_law"]
    report = Report(name="train", title=f"Trained {model!r}" + (f" -> {args.out}" if args.out else ""),
                    tables=(), findings=findings,
                    notes=(f"vocabulary: {' '.join(names)}",) if names else ())
    _print_reports([report], args.json, out)
    return 0


def _cmd_verify(args, out):
    from ..interop.verify import load_target, verify_denoiser, verify_sampler
    from ..reports.tables import Report, Table
    from .builders import build_denoiser, build_law, build_sampler, parse_prompt

    law = build_law(args)
    target = load_target(args.target)
    if args.sampler is None:
        result = verify_denoiser(target(law.table), law, tolerance=args.tolerance)
        kind = "denoiser"
    else:
        prompt = parse_prompt(args.prompt, law.vocab_size, law.length)
        sampler = build_sampler(args, law.length)
        result = verify_sampler(target, sampler, build_denoiser(args.denoiser, law), law, n=args.samples,
                                seed=args.seed, prompt=prompt, alpha=args.alpha)
        kind = f"sampler, as {sampler!r}"
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


def _cmd_vectors(args, out):
    from ..interop import vectors
    from ..reports.tables import Report, Table

    if bool(args.out) == bool(args.check):
        raise InvalidParameterError("give exactly one of --out FILE (write) or --check FILE (recompute and compare)")
    if args.out:
        vectors.write(args.out)
        report = Report(name="vectors", title=f"golden vectors written to {args.out}", tables=(),
                        findings={"schema": vectors.SCHEMA, "cases": len(vectors.build()["cases"])})
        _print_reports([report], args.json, out)
        return 0
    problems = vectors.check(args.check)
    report = Report(name="vectors", title=f"{args.check}: {'AGREES' if not problems else 'DIFFERS'}",
                    tables=(Table("differences", ("field: file vs recomputed",), tuple((p,) for p in problems)),)
                    if problems else (), findings={"differences": len(problems), "passed": not problems})
    _print_reports([report], args.json, out)
    return 0 if not problems else 1


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (the usage itself is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    parser = _Parser(
        prog="refimpl",
        description="Exact reference implementation of absorbing (masked) discrete diffusion.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    paper = commands.add_parser(
        "paper", help="reproduce the paper's checkable claims exactly and print their tables")
    paper.add_argument("--json", action="store_true", help="print machine-readable JSON")
    paper.add_argument("--figures", metavar="DIR", default=None, help="write PNG plots here (needs matplotlib)")
    paper.add_argument("--workers", type=int, default=1,
                       help="train the four MLPs side by side on this many processes, one BLAS thread each (faster; "
                            "the trained models' numbers then differ in their last digits; default 1)")
    paper.set_defaults(run=_cmd_paper)

    from .builders import add_law_arguments, add_sampler_arguments

    law = commands.add_parser(
        "law", help="exact law of a sampler on a data law: KL, TV, incoherent mass, what changed most")
    add_law_arguments(law)
    add_sampler_arguments(law)
    law.add_argument("--denoiser", default="oracle", help="'oracle' (default) or a checkpoint from refimpl train")
    law.add_argument("--json", action="store_true", help="print machine-readable JSON")
    law.set_defaults(run=_cmd_law)

    frontier = commands.add_parser(
        "frontier", help="every sampler family at several speeds: exact KL against exact expected model calls")
    add_law_arguments(frontier)
    frontier.add_argument("--denoiser", default="oracle", help="'oracle' (default) or a checkpoint from refimpl train")
    frontier.add_argument("--prompt", default=None, help="partial sequence, tokens separated by spaces, M for a mask")
    frontier.add_argument("--temperature", type=float, default=1.0, help="every sampler's (MDLM's stays 1)")
    frontier.add_argument("--by", default="kl", choices=("kl", "tv"), help="the loss the frontier is drawn by")
    frontier.add_argument("--json", action="store_true", help="print machine-readable JSON")
    frontier.add_argument("--figures", default=None, metavar="DIR", help="also write the frontier plot here")
    frontier.add_argument("--workers", type=int, default=1, help="settings run side by side on this many processes")
    frontier.add_argument("--scheduler", default=None, help="or on the Dask cluster at this address")
    frontier.add_argument("--results", default=None, metavar="DIR",
                          help="run the settings as a resumable sweep into DIR (refimpl sweep)")
    frontier.set_defaults(run=_cmd_frontier)

    add_study_commands(commands)

    verify = commands.add_parser(
        "verify", help="check another implementation (module:function) against refimpl; exit 0 only if it agrees")
    verify.add_argument("target", help="module:function — a denoiser factory f(p) -> denoiser, or with --as a "
                                       "sampler f(denoiser, n, rng, length, vocab_size, prompt) -> (n, L) samples")
    add_law_arguments(verify)
    add_sampler_arguments(verify, flags=("--as",), default=None)
    verify.add_argument("--denoiser", default="oracle", help="denoiser handed to a sampler target")
    verify.add_argument("--samples", type=int, default=20000, help="samples drawn from a sampler target")
    verify.add_argument("--alpha", type=float, default=1e-3, help="chi-square false-alarm rate")
    verify.add_argument("--tolerance", type=float, default=1e-6, help="largest allowed probability difference")
    verify.add_argument("--json", action="store_true", help="print machine-readable JSON")
    verify.set_defaults(run=_cmd_verify)

    vectors = commands.add_parser("vectors", help="write (--out) or check (--check) golden test vectors (JSON)")
    vectors.add_argument("--out", default=None, help="write the vectors here")
    vectors.add_argument("--check", default=None, help="recompute the vectors in this file and compare")
    vectors.add_argument("--json", action="store_true", help="print machine-readable JSON")
    vectors.set_defaults(run=_cmd_vectors)

    train = commands.add_parser("train", help="train the NumPy MLP denoiser on the NELBO; writes a .npz checkpoint")
    add_law_arguments(train)
    train.add_argument("--out", default=None, help="checkpoint path (.npz)")
    train.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    train.add_argument("--steps", type=int, default=2000)
    train.add_argument("--batch-size", type=int, default=256)
    train.add_argument("--lr", type=float, default=3e-3)
    train.add_argument("--hidden", default="128,128")
    train.add_argument("--activation", default="gelu", choices=("tanh", "relu", "gelu"))
    train.add_argument("--masking", default="random", choices=("random", "any_order", "blockwise"))
    train.add_argument("--block-size", type=int, default=1)
    train.add_argument("--schedule", default="polynomial",
                       choices=("linear", "cosine", "loglinear", "polynomial", "geometric"))
    train.add_argument("--checkpoint-every", type=int, default=0)
    train.add_argument("--json", action="store_true", help="print machine-readable JSON")
    train.set_defaults(run=_cmd_train)
    return parser


def main(argv=None, out=None):
    out = sys.stdout if out is None else out
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        print("refimpl: error: no command given (see 'refimpl --help')", file=sys.stderr)
        return 2
    try:
        return args.run(args, out)
    except RefimplError as error:
        if args.debug:
            traceback.print_exc()
        print(f"refimpl {args.command}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug in refimpl: still one line, the traceback with --debug
        if args.debug:
            traceback.print_exc()
        print(f"refimpl {args.command}: internal error: {type(error).__name__}: {_one_line(error)} "
              f"(rerun with --debug for the traceback and please report it)", file=sys.stderr)
        return 3


def _one_line(error):
    return " ".join(str(error).split())


def entry_point():
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `refimpl paper --json | head`: the reader left, nothing is wrong
        code = 0
        sys.stdout = None
    sys.exit(code)
