"""Building data laws, denoisers and samplers from command-line words (shared by the CLI commands)."""
import dataclasses

import numpy as np

from .. import samplers
from ..core import validate
from ..core.errors import FileFormatError, InvalidParameterError
from ..denoisers import oracle_denoiser
from ..diffusion import schedules
from ..laws import datasets

LAWS = datasets.NAMED
SAMPLERS = ("ancestral", "first_hitting", "random_k", "llada", "dream", "threshold", "factor", "left_to_right",
            "semi_ar", "fixed", "entropy_bound", "remdm", "llada2")
ONLY = {"llada": ("cfg_scale", "logits_eos_inf", "confidence_eos_eot_inf", "eos", "eot", "eos_rule"),
        "entropy_bound": ("gamma", "tempered_entropy"), "remdm": ("remdm", "eta", "t_on", "t_off", "alpha_on", "conf_sigma"),
        "llada2": ("editing_threshold", "max_post_steps", "minimal_topk", "edit_rule")}
TIED = ("llada", "dream", "threshold", "factor", "entropy_bound", "llada2")  # samplers with a tie rule
PRECISE = ("llada", "ancestral", "dream", "threshold", "factor", "entropy_bound", "llada2")  # with precision=
GRIDDED = ("dream", "ancestral", "remdm")  # samplers whose originals compute their grid in float32
SCHEDULES = {"linear": schedules.Linear, "cosine": schedules.Cosine, "loglinear": schedules.LogLinear,
             "polynomial": schedules.Polynomial, "geometric": schedules.Geometric}


def add_law_arguments(parser):
    parser.add_argument("--data-file", default=None,
                        help="text file: one sequence per line, tokens separated by spaces (its empirical law)")
    parser.add_argument("--vocab", default=None, help="token names in id order, e.g. 'A B C D E' (default: from the file)")
    parser.add_argument("--data", default="dirichlet",
                        help=f"data law: one of {', '.join(LAWS)}, or a .npy file holding a (V,)*L float64 table")
    parser.add_argument("--vocab-size", type=int, default=3)
    parser.add_argument("--length", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random law (dirichlet, markov)")
    parser.add_argument("--concentration", type=float, default=0.5, help="Dirichlet concentration")


def add_sampler_arguments(parser, flags=("--sampler",), default="llada"):
    parser.add_argument(*flags, dest="sampler", default=default, choices=SAMPLERS)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--block-length", type=int, default=None)
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--remasking", default="low_confidence", choices=("low_confidence", "random"))
    parser.add_argument("--alg", default="origin", choices=("origin", "maskgit_plus", "topk_margin", "entropy"))
    parser.add_argument("--threshold", type=float, default=None,
                        help="threshold: the confidence to commit (0.9); llada2: the same inside its blocks (0.7)")
    parser.add_argument("--factor", type=float, default=1.0, help="factor: Fast-dLLM's factor rule")
    parser.add_argument("--tokens-per-step", default="1", help="random_k / semi_ar inner: an int or a list like 1,2,1")
    parser.add_argument("--schedule", default="linear", choices=sorted(SCHEDULES))
    parser.add_argument("--eps", type=float, default=None, help="ancestral / dream time-grid end")
    parser.add_argument("--top-p", type=float, default=None, help="dream: nucleus truncation of the token law")
    parser.add_argument("--top-k", type=int, default=None, help="dream: keep the k most probable tokens")
    parser.add_argument("--alg-temp", type=float, default=None,
                        help="dream: draw the positions from softmax(confidence / alg_temp) instead of ranking")
    parser.add_argument("--grid", default=None, choices=("float32", "float64"),
                        help="dream / ancestral / remdm: the schedule and counts as the original's float32 code computes "
                             "them (default) or the float64 ideal")
    parser.add_argument("--precision", default=None, choices=("float64", "float32", "float16", "bfloat16"),
                        help="llada, threshold, factor, entropy_bound: add_gumbel_noise, ancestral: _sample_categorical, "
                             "dream: sample_tokens, llada2: the model's logits, in this dtype, its law exact "
                             "(float64, the ideal, by default)")
    parser.add_argument("--tie", default=None, choices=("lowest", "highest", "random"),
                        help="ranking samplers: which of equal confidences ranks first (lowest position by default)")
    parser.add_argument("--noise-removal", action="store_true", help="ancestral: MDLM's final argmax step")
    parser.add_argument("--cache", action="store_true",
                        help="ancestral: MDLM's ddpm_cache (same law; no model call after a step that changed nothing)")
    parser.add_argument("--sets", default=None, help="fixed: reveal sets, 1-based, e.g. '1,2;3;4'")
    parser.add_argument("--cfg-scale", type=float, default=None, help="llada: classifier-free guidance scale (>= 0)")
    parser.add_argument("--logits-eos-inf", action="store_true", default=None, help="llada: never draw --eos")
    parser.add_argument("--confidence-eos-eot-inf", action="store_true", default=None,
                        help="llada: its EOS/EoT confidence line (see --eos-rule)")
    parser.add_argument("--eos", type=int, default=None, help="llada: the EOS token id (0..V-1)")
    parser.add_argument("--eot", type=int, default=None, help="llada: the EoT token id (0..V-1)")
    parser.add_argument("--eos-rule", default=None, choices=("code", "intent"),
                        help="llada: what LLaDA's code does (default) or what its docstring says")
    parser.add_argument("--gamma", type=float, default=None, help="entropy_bound: the entropy budget in nats (0.1)")
    parser.add_argument("--tempered-entropy", action="store_true", default=None,
                        help="entropy_bound: the entropy of the tempered law (diffusers), not the model's")
    parser.add_argument("--remdm", default=None, choices=("cap", "rescale", "conf", "loop"),
                        help="remdm: remasking schedule (cap)")
    parser.add_argument("--conf-sigma", default=None, choices=("max", "cap", "rescale"),
                        help="remdm conf: the sigma its weights share out: sigma_max as the code (max), or the cap "
                             "or rescale schedule's with --eta, as the paper describes it")
    parser.add_argument("--eta", type=float, default=None, help="remdm: remasking strength (0.02)")
    parser.add_argument("--t-on", type=float, default=None, help="remdm loop: where the loop starts (0.55)")
    parser.add_argument("--t-off", type=float, default=None, help="remdm loop: where it ends (0.05)")
    parser.add_argument("--alpha-on", type=float, default=None, help="remdm loop: alpha held in the loop (0.9)")
    parser.add_argument("--editing-threshold", type=float, default=None,
                        help="llada2: the confidence to replace a committed token (0.5; 0 turns editing off)")
    parser.add_argument("--max-post-steps", type=int, default=None,
                        help="llada2: edit-only iterations after a block's masks are gone (16)")
    parser.add_argument("--minimal-topk", type=int, default=None, help="llada2: caps the steps at masked // this (1)")
    parser.add_argument("--edit-rule", default=None, choices=("code", "intent"),
                        help="llada2: edit at every iteration, as the scheduler's code does (default), or only "
                             "after the masks are gone, as its docstring says")
    parser.add_argument("--prompt", default=None,
                        help="partial sequence, tokens separated by spaces, M for a mask, e.g. '0 M M M'")


def build_law(args):
    """The data law named by the arguments (a data file's empirical law when ``--data-file`` is given)."""
    return load_data(args)[0]


def load_data(args):
    """``(law, token names or None, sequences or None)`` from ``--data-file``/``--vocab`` or ``--data``."""
    if getattr(args, "data_file", None):
        sequences, names = read_sequences(args.data_file, args.vocab.split() if args.vocab else None)
        return datasets.empirical(sequences, vocab_size=len(names), name=args.data_file), names, sequences
    return _named_law(args), None, None


def _named_law(args):
    try:
        return datasets.named(args.data, args.vocab_size, args.length, args.seed, args.concentration)
    except InvalidParameterError as error:
        raise InvalidParameterError(str(error).replace("data must", "--data must", 1)) from None


def parse_prompt(text, vocab_size, length, names=None):
    """``'0 M M'`` (token ids, or names from the data file's vocabulary, and M for a mask)."""
    if text is None:
        return None
    words = text.replace(",", " ").split()
    ids = {str(name): k for k, name in enumerate(names)} if names else {}
    try:
        tokens = [vocab_size if w == "M" else ids[w] if w in ids else int(w) for w in words]
    except ValueError:
        raise InvalidParameterError(f"--prompt holds {text!r}; use token numbers (or vocabulary names) "
                                    f"and M for masks") from None
    return validate.tokens(np.array(tokens, dtype=np.int64), vocab_size, length, partial=True, name="prompt", ndim=1)


def _counts(text):
    parts = [p for p in str(text).split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise InvalidParameterError(f"--tokens-per-step must be an int or a comma list, got {text!r}") from None
    return values[0] if len(values) == 1 else values


def build_sampler(args, length):
    """The sampler named by the arguments (``--tie`` applied to a ranking sampler, ``--precision`` to one that
    draws in a dtype)."""
    sampler = _build_sampler(args, length)
    tie, precision = getattr(args, "tie", None), getattr(args, "precision", None)
    if precision is not None:
        if args.sampler not in PRECISE:
            raise InvalidParameterError(f"--precision applies to {', '.join(PRECISE)} only, not {args.sampler}")
        sampler = dataclasses.replace(sampler, precision=precision)
    if tie is None:
        return sampler
    if "tie" not in {field.name for field in dataclasses.fields(sampler)}:
        raise InvalidParameterError(f"--tie applies to the ranking samplers ({', '.join(TIED)}), not {args.sampler}")
    return dataclasses.replace(sampler, tie=tie)


def _build_sampler(args, length):
    name, temp = args.sampler, args.temperature
    if name != "ancestral" and getattr(args, "cache", False):
        raise InvalidParameterError(f"--cache applies to ancestral only, not {name}")
    if name != "dream" and any(getattr(args, flag, None) is not None for flag in ("top_p", "top_k", "alg_temp")):
        raise InvalidParameterError(f"--top-p, --top-k and --alg-temp apply to dream only, not {name}")
    for owner, flags in ONLY.items():
        given = [f"--{flag.replace('_', '-')}" for flag in flags if getattr(args, flag, None) is not None]
        if name != owner and given:
            raise InvalidParameterError(f"{', '.join(given)} apply to {owner} only, not {name}")
    if getattr(args, "grid", None) is not None and name not in GRIDDED:
        raise InvalidParameterError(f"--grid applies to {', '.join(GRIDDED)} only, not {name}")
    steps = args.steps if args.steps is not None else length
    grid = {"grid": args.grid} if getattr(args, "grid", None) is not None else {}
    given = {flag: getattr(args, flag) for flag in ONLY.get(name, ()) if getattr(args, flag, None) is not None}
    if name == "entropy_bound":
        return samplers.EntropyBound(block_length=args.block_length, temperature=0.0 if temp is None else temp, **given)
    if name == "remdm":
        if "remdm" in given:
            given["remasking"] = given.pop("remdm")
        schedule = SCHEDULES[args.schedule]()
        return samplers.ReMDM(steps, schedule=schedule, eps=args.eps or 0.0, noise_removal=args.noise_removal, **given,
                              **grid)
    if name == "llada2":
        return samplers.LLaDA2(steps if args.steps is not None else 32, args.block_length,
                               0.7 if args.threshold is None else args.threshold,
                               temperature=0.0 if temp is None else temp, **given)
    if name != "threshold" and args.threshold is not None:
        raise InvalidParameterError(f"--threshold applies to threshold and llada2 only, not {name}")
    if name == "ancestral":
        schedule = SCHEDULES[args.schedule]()
        return samplers.Ancestral(schedule, steps, eps=args.eps or 0.0, noise_removal=args.noise_removal, cache=args.cache,
                                  **grid)
    if name == "first_hitting":
        return samplers.FirstHitting()
    if name == "random_k":
        return samplers.RandomK(_counts(args.tokens_per_step), temperature=1.0 if temp is None else temp)
    if name == "llada":
        return samplers.LLaDA(steps, args.block_length, 0.0 if temp is None else temp, args.remasking, **given)
    if name == "dream":
        return samplers.Dream(steps, args.alg, 0.0 if temp is None else temp, 1e-3 if args.eps is None else args.eps,
                              args.top_p, args.top_k, args.alg_temp, **grid)
    if name == "threshold":
        threshold = 0.9 if args.threshold is None else args.threshold
        return samplers.Threshold(threshold, args.block_length, 0.0 if temp is None else temp)
    if name == "factor":
        return samplers.Factor(args.factor, args.block_length, 0.0 if temp is None else temp)
    if name == "left_to_right":
        return samplers.LeftToRight(1.0 if temp is None else temp)
    if name == "semi_ar":
        if args.block_length is None:
            raise InvalidParameterError("semi_ar needs --block-length")
        return samplers.SemiAR(args.block_length, samplers.RandomK(_counts(args.tokens_per_step)))
    if name == "fixed":
        if not args.sets:
            raise InvalidParameterError("fixed needs --sets, e.g. '1,2;3;4' (1-based positions)")
        try:
            sets = [[int(i) - 1 for i in part.split(",") if i.strip()] for part in args.sets.split(";")]
        except ValueError:
            raise InvalidParameterError(f"--sets must look like '1,2;3;4', got {args.sets!r}") from None
        return samplers.FixedOrder(sets, 1.0 if temp is None else temp)
    raise InvalidParameterError(f"unknown sampler {name!r}")


def build_denoiser(spec, law):
    """'oracle' (the exact denoiser of the law) or a checkpoint written by ``refimpl train``."""
    if spec in (None, "oracle"):
        return oracle_denoiser(law)
    from ..models.checkpoint import load

    model = load(spec)[0]
    if (model.vocab_size, model.length) != (law.vocab_size, law.length):
        raise InvalidParameterError(
            f"{spec} is a model for V={model.vocab_size}, L={model.length}; the law has "
            f"V={law.vocab_size}, L={law.length}")
    return model


def read_sequences(path, vocab=None):
    r"""Sequences from a text file: one per line, tokens separated by spaces; blank lines are skipped.

    ``vocab`` (a list of token names) fixes the ids; by default the distinct tokens of the file,
    sorted, are the vocabulary.  Returns ``(int array (N, L), vocabulary list)``; errors name the line.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [(number, line.split()) for number, line in enumerate(handle, start=1)]
    except OSError as error:
        raise FileFormatError(f"cannot read {path}: {error}") from None
    except UnicodeDecodeError:
        raise FileFormatError(f"{path} is not UTF-8 text") from None
    lines = [(number, words) for number, words in lines if words]
    if not lines:
        raise FileFormatError(f"{path} holds no sequences (one per line, tokens separated by spaces)")
    first_number, first = lines[0]
    for number, words in lines:
        if len(words) != len(first):
            raise FileFormatError(
                f"{path} line {number} has {len(words)} tokens but line {first_number} has {len(first)}; "
                f"all sequences must have the same length")
    names = sorted({w for _, words in lines for w in words}) if vocab is None else list(vocab)
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"the vocabulary repeats a token: {names}")
    ids = {name: k for k, name in enumerate(names)}
    for number, words in lines:
        for word in words:
            if word not in ids:
                raise FileFormatError(
                    f"{path} line {number}: token {word!r} is not in the vocabulary {' '.join(names)}")
    if len(names) < 2:
        names = names + [f"<unused{k}>" for k in range(2 - len(names))]
    return np.array([[ids[w] for w in words] for _, words in lines], dtype=np.int64), names
