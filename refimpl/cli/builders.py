"""Building data laws, denoisers and samplers from command-line words (shared by the CLI commands)."""
import argparse
import dataclasses

import numpy as np

from ..core.errors import FileFormatError, InvalidParameterError
from ..denoisers import oracle_denoiser
from ..diffusion import schedules
from ..laws import datasets
from ..samplers import registry, uniform_registry
from ..samplers.params import LENGTH
from . import kinds

LAWS = datasets.NAMED
SCHEDULES = schedules.NAMED


def add_law_arguments(parser, prompt=False):
    """The problem group: the data law (named, a .npy table or a data file), its size and seed, and with ``prompt``
    the partial sequence to complete; returns the group (the command adds its denoiser to it)."""
    group = parser.add_argument_group("the problem")
    group.add_argument("--data", default="dirichlet", metavar="LAW",
                       help=f"data law: one of {', '.join(LAWS)}, or a .npy file holding a (V,)*L float64 table "
                            f"(default dirichlet)")
    group.add_argument("--data-file", default=None, metavar="FILE",
                       help="or a text file, one sequence per line, tokens separated by spaces: its empirical law "
                            "(default none)")
    group.add_argument("--vocab", default=None, metavar="NAMES",
                       help="a data file's token names in id order, e.g. 'A B C D E' (default the file's distinct "
                            "tokens, sorted)")
    group.add_argument("--vocab-size", type=kinds.count(2), default=3, metavar="V",
                       help="V, the number of data tokens, ids 0..V-1 (the mask is id V) (default 3)")
    group.add_argument("--length", type=kinds.count(1), default=4, metavar="L",
                       help="L, the sequence length; positions are 0..L-1 (default 4)")
    group.add_argument("--seed", type=kinds.count(0), default=0,
                       help="seed of the random law (dirichlet, markov) and of the command's own draws "
                            "(default 0)")
    group.add_argument("--concentration", type=kinds.positive, default=0.5,
                       help="the Dirichlet law's concentration (default 0.5)")
    if prompt:
        group.add_argument("--prompt", default=None,
                           help="partial sequence: token ids (or a data file's names) separated by spaces, M for a "
                                "mask, e.g. '0 M M M' (default none: every position masked)")
    return group


def _entries(uniform=True):
    """The families the command line reads: the registry's, then (with ``uniform``) the uniform-state ones."""
    return list(registry.FAMILIES.values()) + (list(uniform_registry.UNIFORM_FAMILIES.values()) if uniform else [])


def _entry(name):
    """The family ``name`` of either registry."""
    try:
        return registry.family(name)
    except InvalidParameterError:
        if name in uniform_registry.UNIFORM_NAMES:
            return uniform_registry.uniform_family(name)
        raise InvalidParameterError(f"sampler family must be one of "
                                    f"{', '.join(registry.NAMES + uniform_registry.UNIFORM_NAMES)}, got {name!r}") from None


def is_uniform(name) -> bool:
    """Whether the family ``name`` decodes without a mask."""
    return name in uniform_registry.UNIFORM_NAMES


def _flags(uniform=True) -> dict:
    """Every sampler flag (its dest) -> [(family name, Parameter)], in the registries' order."""
    flags = {}
    for entry in _entries(uniform):
        for parameter in entry.parameters():
            flags.setdefault(parameter.flag, []).append((entry.name, parameter))
    return flags


def _shown(value) -> str:
    if value is LENGTH:
        return "the length"
    if isinstance(value, str):
        return repr(value)
    return "none" if value is None else schedules.name_of(value) or str(value)


def _flag_help(owners) -> str:
    """The help of a flag shared by several families: each distinct text once, with whose it is, then the choices
    and the defaults."""
    texts = {}
    for name, parameter in owners:
        texts.setdefault(parameter.help, []).append(name)
    names = [name for name, _ in owners]
    if len(texts) == 1:
        text = f"{next(iter(texts))} [{', '.join(names)}]" if len(names) > 1 else next(iter(texts))
    else:
        text = "; ".join(f"{', '.join(who)}: {help}" for help, who in texts.items())
    choices = {c for _, parameter in owners for c in (parameter.choices or ())}
    if choices:
        text += f" {{{', '.join(sorted(choices))}}}"
    defaults = {}
    for name, parameter in owners:
        if parameter.default is not dataclasses.MISSING and not parameter.switch:
            defaults.setdefault(_shown(parameter.default), []).append(name)
    if len(defaults) == 1 and sum(map(len, defaults.values())) == len(owners):
        text += f" (default {next(iter(defaults))})"
    elif defaults:
        text += " (default " + "; ".join(f"{value} for {', '.join(who)}" for value, who in defaults.items()) + ")"
    elif any(parameter.default is dataclasses.MISSING for _, parameter in owners):
        text += " (required)"
    elif all(parameter.switch for _, parameter in owners):
        text += " (default off)"
    return text.replace("%", "%%")


def add_sampler_arguments(parser, flags=("--sampler",), default="llada", uniform=False):
    """``--sampler FAMILY`` and one flag per parameter of every registered family (the dataclass fields,
    :mod:`refimpl.samplers.params`) — with ``uniform`` the uniform-state families' too, and ``--uniform-model``: the
    flags several families read in one group, each family's own in its group; a flag given to a family without that
    parameter is refused by :func:`build_sampler`."""
    shared = parser.add_argument_group(
        "the sampler", "the sampler family, and the flags several families read (each lists its families)")
    names = registry.NAMES + (uniform_registry.UNIFORM_NAMES if uniform else ())
    shared.add_argument(*flags, dest="sampler", default=default, metavar="FAMILY",
                        type=_family_name if not uniform else _any_family_name,
                        help=f"one of {', '.join(names)} "
                             + (f"(default {default})" if default else "(default none: the target is a denoiser)"))
    if uniform:
        shared.add_argument("--uniform-model", default=None, choices=tuple(uniform_registry.MODELS),
                            help="the exact model a uniform-state family reads: "
                                 + "; ".join(f"{k}: {v}" for k, v in uniform_registry.MODELS.items())
                                 + " (default the family's: told_loo for uniform_ancestral, else agnostic)")
    groups = {}
    for flag, owners in _flags(uniform).items():
        families = {name for name, _ in owners}
        if len(families) > 1:
            group = shared
        else:
            (name,) = families
            if name not in groups:
                groups[name] = parser.add_argument_group(f"{name} options", _entry(name).summary)
            group = groups[name]
        aliases = sorted({alias for _, parameter in owners for alias in parameter.aliases})
        names = [f"--{flag.replace('_', '-')}"] + aliases
        if all(parameter.switch for _, parameter in owners):
            group.add_argument(*names, dest=flag, action="store_true", default=None, help=_flag_help(owners))
        else:
            group.add_argument(*names, dest=flag, default=None, metavar=flag.upper(), help=_flag_help(owners))


def _family_name(text):
    try:
        return registry.family(text).name
    except InvalidParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _any_family_name(text):
    try:
        return _entry(text).name
    except InvalidParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
    """``'0 M M'`` (token ids, or names from the data file's vocabulary, and M for a mask) as an int array, read but
    not checked: the command's problem (:func:`refimpl.engine.problem`) checks it, once."""
    if text is None:
        return None
    words = text.replace(",", " ").split()
    ids = {str(name): k for k, name in enumerate(names)} if names else {}
    try:
        tokens = [vocab_size if w == "M" else ids[w] if w in ids else int(w) for w in words]
    except ValueError:
        raise InvalidParameterError(f"--prompt holds {text!r}; use token numbers (or vocabulary names) "
                                    f"and M for masks") from None
    return np.array(tokens, dtype=np.int64)


def build_sampler(args, length):
    """The sampler named by ``--sampler`` with the parameters its flags give (the others at their defaults; a
    parameter whose command-line default is the sequence length at ``length``); a flag the family does not read
    is refused, naming the families that do."""
    entry = _entry(args.sampler)
    own = {parameter.flag: parameter for parameter in entry.parameters()}
    owners = _flags(uniform=hasattr(args, "uniform_model"))
    given = {flag: getattr(args, flag) for flag in owners if getattr(args, flag, None) is not None}
    foreign = [flag for flag in given if flag not in own]
    if foreign:
        order = registry.NAMES + uniform_registry.UNIFORM_NAMES
        readers = sorted({name for flag in foreign for name, _ in owners[flag]}, key=order.index)
        shown = ", ".join(f"--{flag.replace('_', '-')}" for flag in foreign)
        raise InvalidParameterError(f"{shown} {'applies' if len(foreign) == 1 else 'apply'} to "
                                    f"{', '.join(readers)} only, not {entry.name}")
    params = {}
    for parameter in entry.parameters():
        field = next(f for f in dataclasses.fields(entry.cls) if f.name == parameter.field)
        if parameter.flag in given:
            params[parameter.field] = True if parameter.switch else _converted(parameter, given[parameter.flag])
        elif parameter.default is LENGTH:
            params[parameter.field] = length
        elif parameter.default is dataclasses.MISSING:
            raise InvalidParameterError(f"{entry.name} needs --{parameter.flag.replace('_', '-')}: {parameter.help}")
        elif field.default is dataclasses.MISSING or parameter.default is not field.default:
            params[parameter.field] = parameter.default
    return entry.build(**params)


def _converted(parameter, text):
    """A flag's word as the value of its field (the parameter's converter), or a one-line error."""
    try:
        return parameter.convert(text)
    except ValueError:
        kind = {int: "an integer", float: "a number"}.get(parameter.convert, "a valid value")
        raise InvalidParameterError(f"--{parameter.flag.replace('_', '-')} must be {kind}, got {text!r}") from None


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
