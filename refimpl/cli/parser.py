"""The ``refimpl`` command line: every command's flags, grouped (the problem, the sampler, each family's options, the
output), each with a description and its default, and two or three examples per command.

Numbers are checked where they enter (:mod:`refimpl.cli.kinds`): a bad one is one line and exit 2 before any work.
"""
import argparse
import textwrap

from . import kinds
from .builders import add_law_arguments, add_sampler_arguments


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line (the usage itself is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _command(commands, name, help, description, examples):
    """A subcommand whose ``--help`` shows its description and ``examples`` (lines ``command  # what``)."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    return commands.add_parser(name, help=help, description=textwrap.fill(description, 79), epilog=epilog,
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _output(parser, *, json=True, status=True, figures=None, tokens=False):
    """The output group: ``--json``, the status line's ``--progress``/``--quiet``, ``--figures DIR``, ``--letters``."""
    group = parser.add_argument_group("output")
    if json:
        group.add_argument("--json", action="store_true",
                           help="print machine-readable JSON instead of tables (default off: tables)")
    if tokens:
        group.add_argument("--letters", action="store_true",
                           help="print tokens as letters A, B, ... instead of their ids 0, 1, ... (default off: ids; "
                                "a data file's vocabulary prints as its names)")
    if figures:
        group.add_argument("--figures", metavar="DIR", default=None,
                           help=f"also write {figures} here (needs matplotlib; checked before any work) (default none)")
    if status:
        group.add_argument("--progress", action="store_true",
                           help="a plain status line per stage on stderr, even on a terminal (default off: a line "
                                "rewritten in place on a terminal, plain lines elsewhere)")
        group.add_argument("--quiet", action="store_true", help="no status lines (default off)")
    return group


def _denoiser(group, help="the denoiser"):
    group.add_argument("--denoiser", default="oracle", metavar="SPEC",
                       help=f"{help}: 'oracle' (the law's exact denoiser) or a .npz checkpoint from refimpl train "
                            f"(default oracle)")


def _workers(group, help):
    group.add_argument("--workers", type=kinds.count(1), default=1, metavar="N", help=f"{help} (default 1)")


def build_parser():
    """The ``refimpl`` parser; each command's ``run`` is set by :func:`refimpl.cli.main.main`'s table."""
    parser = Parser(prog="refimpl",
                    description="Exact reference implementation of absorbing (masked) discrete diffusion.",
                    epilog="run 'refimpl COMMAND --help' for a command's flags and examples")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors (default off)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    paper = _command(commands, "paper", "reproduce the paper's checkable claims exactly and print their tables",
                     "Every checkable claim of 'Why mask diffusion does not work' (Sun, Wen, Wang 2025), exactly: "
                     "the coupled pair, the toy query, homogenisation, near-autoregressive decoding, the prescriptions. "
                     "The paper's own notation is kept: tokens A, B, C, ... and positions x1, x2, ... from 1.",
                     ["refimpl paper", "refimpl paper --json > paper.json", "refimpl paper --figures figs --workers 2"])
    _workers(paper.add_argument_group("speed"),
             "train the four MLPs side by side on this many processes, one BLAS thread each (faster; the trained "
             "models' numbers then differ in their last digits)")
    _output(paper, figures="PNG plots of the tables")

    law = _command(commands, "law", "exact law of a sampler on a data law: KL, TV, incoherent mass, what changed most",
                   "The exact output law of one sampler on one data law (every sequence enumerated), against the data "
                   "law given the prompt: KL, TV, incoherent mass, expected model calls, tie probability, and the "
                   "outputs whose probability changed most.",
                   ["refimpl law --data coupled --sampler llada --steps 2",
                    "refimpl law --vocab-size 3 --length 4 --sampler fixed_order --sets '0,1;2,3'",
                    "refimpl law --data markov --length 5 --sampler threshold --threshold 0.9 --prompt '0 M M M M'",
                    "refimpl law --data coupled --sampler renoise --steps 8  # no mask: DiffusionGemma's sampler"])
    problem = add_law_arguments(law, prompt=True)
    _denoiser(problem)
    add_sampler_arguments(law, uniform=True)
    _output(law, tokens=True)

    frontier = _command(commands, "frontier",
                        "every sampler family at several speeds: exact KL against exact expected model calls",
                        "Every sampler family at several speeds on one data law: the exact loss (KL or TV) against the "
                        "exact expected number of model calls, and the settings no other beats on both.",
                        ["refimpl frontier --data coupled", "refimpl frontier --by tv --temperature 0",
                         "refimpl frontier --results runs/frontier --workers 2"])
    problem = add_law_arguments(frontier, prompt=True)
    _denoiser(problem)
    sampling = frontier.add_argument_group("the samplers")
    sampling.add_argument("--temperature", type=kinds.nonnegative, default=1.0,
                          help="every sampler's temperature (MDLM's stays 1) (default 1.0)")
    sampling.add_argument("--by", default="kl", choices=("kl", "tv"),
                          help="the loss the frontier is drawn by {kl, tv} (default kl)")
    sampling.add_argument("--uniform", action="store_true",
                          help="also the samplers without a mask, with exact uniform-state models (refimpl "
                               "beyond-mask's settings) (default off)")
    run = frontier.add_argument_group("where it runs")
    _workers(run, "settings run side by side on this many processes")
    run.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="or on the Dask cluster at this address, e.g. tcp://host:8786 (default none)")
    run.add_argument("--results", default=None, metavar="DIR",
                     help="run the settings as a resumable sweep into DIR (refimpl sweep) (default none)")
    _output(frontier, figures="the frontier plot")

    limits = _command(commands, "limits",
                      "the least KL any oracle sampler reaches at T steps (step sizes, fixed sets, adaptive policies), "
                      "the fewest steps for a KL budget, and every sampler family against them",
                      "What any sampler that reads the exact oracle can reach on a data law: the least KL at T steps "
                      "over step sizes, fixed reveal sets and adaptive policies (positions counted from 0), the "
                      "fewest steps for a KL budget, and every family against these limits.",
                      ["refimpl limits --data coupled", "refimpl limits --data markov --length 5 --epsilon 0.001",
                       "refimpl limits --quick --figures figs"])
    add_law_arguments(limits)
    bounds = limits.add_argument_group("the limits")
    bounds.add_argument("--epsilon", type=kinds.positive, default=0.01,
                        help="the KL budget for the fewest steps, in nats (default 0.01)")
    bounds.add_argument("--quick", action="store_true",
                        help="fewer sampler settings in the families table (default off: all)")
    _output(limits, figures="the parallelism profile plot")

    bounds = _command(commands, "bounds",
                      "the published bounds of parallel decoding on a data law: each one's value, the exact quantity, "
                      "their ratio, and the misprints",
                      "The 2026 theory of parallel decoding on one data law (../shared/THEORY.md): for each bound "
                      "that applies, its value, the exact quantity it bounds and their ratio; with --search, the worst "
                      "ratio over random Dirichlet laws and the smallest law reaching it; printed forms that are "
                      "misprints, next to the correct ones.",
                      ["refimpl bounds --data markov --length 6", "refimpl bounds --data parity --vocab-size 2 "
                       "--length 3", "refimpl bounds --search 20 --json"])
    add_law_arguments(bounds)
    bounds.add_argument_group("the search").add_argument(
        "--search", type=kinds.count(0), default=0, metavar="N",
        help="also search N random Dirichlet laws per space and concentration for each bound's worst ratio "
             "(default 0: none)")
    _output(bounds, figures="the tightness plot")

    beyond = _command(commands, "beyond-mask",
                      "absorbing and uniform-state (mask-free) samplers side by side: exact KL against model calls",
                      "Does leaving the mask keep the couplings the mask loses?  On the coupled pairs, the paper's toy "
                      "query and the Markov chain, every absorbing frontier setting (oracle) next to Duo's ancestral "
                      "steps, diffusers' DiscreteDDIM and DiffusionGemma's renoising sampler with exact uniform-state "
                      "models: KL(p || q), TV, incoherent mass, expected calls, and the uniform settings below L calls "
                      "that reach a KL no absorbing setting reaches at as many calls.",
                      ["refimpl beyond-mask", "refimpl beyond-mask --quick --json",
                       "refimpl beyond-mask --figures figs"])
    shown = beyond.add_argument_group("the settings")
    shown.add_argument("--quick", action="store_true", help="fewer settings per family (default off: all)")
    _output(beyond, figures="the KL-against-calls plot")

    sweep = _command(commands, "sweep",
                     "run a grid of exact computations (a TOML or JSON spec) as resumable tasks on a process pool "
                     "or a Dask cluster",
                     "Run a grid of exact computations, described by a TOML or JSON spec "
                     "(refimpl.experiments.sweep_spec), as resumable tasks: a task whose result is in --results is "
                     "not run again.",
                     ["refimpl sweep grid.toml --results runs/grid", "refimpl sweep grid.toml --results runs/grid "
                      "--workers 1", "refimpl sweep grid.toml --results runs/grid --scheduler tcp://host:8786"])
    sweep.add_argument("spec", help="the sweep's spec, a .toml or .json file (required)")
    where = sweep.add_argument_group("where it runs")
    where.add_argument("--results", required=True, metavar="DIR",
                       help="the directory the results go to, one per sweep (required)")
    where.add_argument("--workers", type=kinds.count(1), default=None, metavar="N",
                       help="local processes (default every core; 1: in this process)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="a Dask scheduler's address, e.g. tcp://host:8786 (default none: local processes)")
    group = _output(sweep, status=False)
    group.add_argument("--quiet", action="store_true", help="no progress line (default off)")

    verify = _command(commands, "verify",
                      "check another implementation (module:function) against refimpl; exit 0 only if it agrees",
                      "Check another implementation against refimpl: a denoiser factory against the exact oracle "
                      "(largest probability difference), or with --as a sampler's samples against the exact law of "
                      "the family it claims (chi-square at --alpha).  Exit 0: agrees; 1: differs; 2: bad input.",
                      ["refimpl verify mymodule:make_denoiser --data markov --length 3",
                       "refimpl verify mymodule:sample --as llada --steps 2 --samples 50000",
                       "refimpl verify mymodule:sample --as first_hitting --alpha 1e-4 --prompt '1 M M M'"])
    verify.add_argument("target", help="module:function — a denoiser factory f(p) -> denoiser, or with --as a sampler "
                                       "f(denoiser, n, rng, length, vocab_size, prompt) -> (n, L) samples (required)")
    problem = add_law_arguments(verify, prompt=True)
    _denoiser(problem, "the denoiser handed to a sampler target")
    add_sampler_arguments(verify, flags=("--as",), default=None)
    test = verify.add_argument_group("the test")
    test.add_argument("--samples", type=kinds.count(1), default=20000, metavar="N",
                      help="samples drawn from a sampler target (default 20000)")
    test.add_argument("--alpha", type=kinds.rate, default=1e-3,
                      help="the chi-square test's false-alarm rate, strictly between 0 and 1 (default 0.001)")
    test.add_argument("--tolerance", type=kinds.nonnegative, default=1e-6,
                      help="a denoiser target's largest allowed probability difference (default 1e-06)")
    _output(verify, tokens=True)

    vectors = _command(commands, "vectors", "write (--out) or check (--check) golden test vectors (JSON)",
                       "Golden test vectors: exact laws, NELBOs and sampler laws on small problems, as JSON, for "
                       "another implementation's tests; --check recomputes a file's cases and lists what differs.",
                       ["refimpl vectors --out vectors.json", "refimpl vectors --check vectors.json"])
    files = vectors.add_argument_group("the file (give exactly one)")
    files.add_argument("--out", default=None, metavar="FILE", help="write the vectors here (default none)")
    files.add_argument("--check", default=None, metavar="FILE",
                       help="recompute the vectors in this file and compare (default none)")
    _output(vectors)

    train = _command(commands, "train", "train the NumPy MLP denoiser on the NELBO; writes a .npz checkpoint",
                     "Train refimpl's NumPy MLP denoiser on the NELBO of a data law (or a data file's sequences), "
                     "print its exact NELBO next to the law's entropy, and save it for --denoiser.",
                     ["refimpl train --data coupled --steps 2000 --out model.npz",
                      "refimpl train --data-file data.txt --masking blockwise --block-size 2 --out model.npz",
                      "refimpl law --data coupled --denoiser model.npz --sampler llada --steps 2",
                      "refimpl train --data coupled --noise uniform --uniform-loss nelbo --out uniform.npz"])
    add_law_arguments(train)
    model = train.add_argument_group("the model and its training")
    model.add_argument("--steps", type=kinds.count(1), default=2000, help="optimiser steps (default 2000)")
    model.add_argument("--batch-size", type=kinds.count(1), default=256, help="sequences per step (default 256)")
    model.add_argument("--lr", type=kinds.positive, default=3e-3, help="Adam's learning rate (default 0.003)")
    model.add_argument("--hidden", default="128,128", help="hidden layer widths, comma-separated (default 128,128)")
    model.add_argument("--activation", default="gelu", choices=("tanh", "relu", "gelu"),
                       help="the hidden layers' activation {tanh, relu, gelu} (default gelu)")
    model.add_argument("--noise", default="absorbing", choices=("absorbing", "uniform"),
                       help="the forward process {absorbing, uniform}: uniform trains a model without a mask on "
                            "--uniform-loss, reported against its exact minimiser (default absorbing)")
    model.add_argument("--uniform-loss", default="cross_entropy", choices=("cross_entropy", "nelbo"),
                       help="with --noise uniform: cross-entropy over every position, not told t (DiffusionGemma's "
                            "recipes), or UDLM's NELBO, told t {cross_entropy, nelbo} (default cross_entropy)")
    model.add_argument("--masking", default="random", choices=("random", "any_order", "blockwise"),
                       help="how training masks a sequence {random, any_order, blockwise} (default random)")
    model.add_argument("--block-size", type=kinds.count(1), default=1,
                       help="the block length of --masking blockwise (default 1)")
    model.add_argument("--schedule", default="polynomial",
                       choices=("linear", "cosine", "loglinear", "polynomial", "geometric"),
                       help="the noise schedule of the NELBO {linear, cosine, loglinear, polynomial, geometric} "
                            "(default polynomial)")
    saving = train.add_argument_group("the checkpoint")
    saving.add_argument("--out", default=None, metavar="FILE", help="checkpoint path (.npz) (default none: not saved)")
    saving.add_argument("--resume", action="store_true", help="continue the run saved in --out (default off)")
    saving.add_argument("--checkpoint-every", type=kinds.count(0), default=0, metavar="STEPS",
                        help="also save every this many steps (default 0: only at the end)")
    _output(train)
    return parser
