"""``refimpl ...`` commands.  Every command prints a human table by default and JSON with ``--json``."""
import argparse
import json
import sys
import traceback

from .errors import RefimplError


def _print_reports(reports, as_json, out):
    if as_json:
        json.dump({"reports": [r.to_json() for r in reports]}, out, indent=2, sort_keys=False)
        out.write("\n")
    else:
        out.write("\n\n".join(r.to_text() for r in reports) + "\n")


def _cmd_paper(args, out):
    from .experiments import coupled_pair_demo

    _print_reports([coupled_pair_demo()], args.json, out)
    return 0


def _cmd_law(args, out):
    from .commands import build_denoiser, build_law, build_sampler, parse_prompt
    from .experiments.sampler_law import sampler_report

    law = build_law(args)
    prompt = parse_prompt(args.prompt, law.vocab_size, law.length)
    sampler = build_sampler(args, law.length)
    report = sampler_report(law, build_denoiser(args.denoiser, law), sampler, prompt)
    _print_reports([report], args.json, out)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="refimpl",
        description="Exact reference implementation of absorbing (masked) discrete diffusion.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    paper = commands.add_parser(
        "paper", help="reproduce the paper's checkable claims exactly and print their tables")
    paper.add_argument("--json", action="store_true", help="print machine-readable JSON")
    paper.set_defaults(run=_cmd_paper)

    from .commands import add_law_arguments, add_sampler_arguments

    law = commands.add_parser(
        "law", help="exact law of a sampler on a data law: KL, TV, incoherent mass, what changed most")
    add_law_arguments(law)
    add_sampler_arguments(law)
    law.add_argument("--denoiser", default="oracle", help="'oracle' (default)")
    law.add_argument("--json", action="store_true", help="print machine-readable JSON")
    law.set_defaults(run=_cmd_law)
    return parser


def main(argv=None, out=None):
    out = sys.stdout if out is None else out
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(out)
        return 2
    try:
        return args.run(args, out)
    except RefimplError as error:
        if args.debug:
            traceback.print_exc()
        print(f"refimpl {args.command}: error: {error}", file=sys.stderr)
        return 2


def entry_point():
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `refimpl paper --json | head`: the reader left, nothing is wrong
        code = 0
        sys.stdout = None
    sys.exit(code)
