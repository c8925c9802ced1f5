r"""A sampler family's parameters as the command line and the docs read them: the dataclass fields themselves.

Each field of a family's frozen dataclass may carry metadata (:func:`param`): a one-line ``help``, the
``convert`` that turns a command-line word into the value (by default from the field's type: int, float, str,
bool), the ``choices`` it takes, a ``cli_default`` where the command line's default is not the field's (the
sequence length, :data:`LENGTH`), the flag's other spellings (``aliases``), or ``cli=False`` where a value has
no command-line form.  So a field added to a family is a flag of ``refimpl law`` with its description and
default, and the registry (:mod:`refimpl.samplers.registry`) needs no table of which flag applies to whom.
"""
import dataclasses
import inspect

from ..core.errors import InvalidParameterError
from ..diffusion.schedules import NAMED, Linear, named
from .kernels.precision import PRECISIONS
from .kernels.subsets import TIES
from .plans import GRIDS

LENGTH = "the sequence length"  # a cli_default: the length of the law the sampler runs on
TEMPERATURE = "the tokens' softmax temperature (argmax at 0)"
BLOCK_LENGTH = "blocks of this length tile the masked region (default: one block)"
TIE = "which of equal confidences ranks first: the lowest position, the highest, or a random order"
GRID = "the time grid and counts as the original's float32 code computes them, or the float64 ideal"
DRAW_PRECISION = "the draw in this dtype, its law exact (float64: the ideal)"
CONFIDENCE_PRECISION = "the confidences rounded to this dtype before ranking (the model's dtype in the original)"
SCHEDULE = "the noise schedule alpha(t)"


def param(default=dataclasses.MISSING, *, help: str, convert=None, choices=None, cli_default=dataclasses.MISSING,
          aliases: tuple = (), cli: bool = True):
    """A dataclass field with the metadata the command line reads (the module docstring)."""
    metadata = {"help": help, "convert": convert, "choices": choices, "cli_default": cli_default,
                "aliases": tuple(aliases), "cli": cli}
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def temperature_param(default: float) -> dataclasses.Field:
    return param(default, help=TEMPERATURE)


def block_length_param() -> dataclasses.Field:
    return param(None, help=BLOCK_LENGTH, convert=int)


def tie_param() -> dataclasses.Field:
    return param("lowest", help=TIE + " (in Python also a ranking function where the family takes one)",
                 convert=str, choices=TIES)


def precision_param(help: str = DRAW_PRECISION) -> dataclasses.Field:
    return param("float64", help=help, choices=PRECISIONS)


def schedule_param() -> dataclasses.Field:
    return param(Linear(), help=SCHEDULE, convert=named, choices=tuple(NAMED))


def grid_param() -> dataclasses.Field:
    return param("float32", help=GRID, choices=GRIDS)


def optional_float(text: str) -> "float | None":
    """``"none"`` -> None, else the float: a threshold that may be off."""
    if str(text).strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidParameterError(f"expected a number or 'none', got {text!r}") from None


def counts(text: str) -> "int | list[int]":
    """``"2"`` -> 2, ``"1,2,1"`` -> [1, 2, 1] (tokens per step)."""
    parts = [p for p in str(text).split(",") if p.strip()]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise InvalidParameterError(f"tokens per step must be an int or a comma list like 1,2,1, got {text!r}") from None
    if not values:
        raise InvalidParameterError(f"tokens per step must be an int or a comma list like 1,2,1, got {text!r}")
    return values[0] if len(values) == 1 else values


def position_sets(text: str) -> list:
    """``"0,1;2;3"`` (positions counted from 0, as everywhere in refimpl; sets separated by ;) -> [[0, 1], [2], [3]];
    the family checks them against the length."""
    try:
        return [[int(i) for i in part.split(",") if i.strip()] for part in str(text).split(";")]
    except ValueError:
        raise InvalidParameterError(f"sets must look like '0,1;2;3' (positions from 0), got {text!r}") from None


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One field of a family as the command line sees it: ``flag`` (its dest), ``convert`` (word -> value, None
    for a switch), ``default`` (what the family takes when the flag is not given: the field's default, the
    ``cli_default`` or :data:`LENGTH`; MISSING when the flag is required)."""

    field: str
    flag: str
    help: str
    convert: object
    choices: "tuple | None"
    default: object
    aliases: tuple = ()

    @property
    def switch(self) -> bool:
        """A bool field: a flag without a value (store_true)."""
        return self.convert is None


def parameters(cls: type) -> list:
    """The :class:`Parameter` of every field of ``cls`` that has a command-line form, in field order."""
    out = []
    for field in dataclasses.fields(cls):
        meta = field.metadata
        if not meta.get("cli", True):
            continue
        convert = meta.get("convert")
        if convert is None and field.type not in (bool, "bool"):
            convert = {int: int, float: float, str: str, "int": int, "float": float, "str": str}.get(field.type)
            if convert is None:
                raise TypeError(f"{cls.__name__}.{field.name} ({field.type}) needs a convert= in its param()")
        default = meta.get("cli_default", dataclasses.MISSING)
        if default is dataclasses.MISSING:
            default = field.default
        out.append(Parameter(field.name, field.name, meta.get("help", ""), convert, meta.get("choices"), default,
                             meta.get("aliases", ())))
    return out


def documented(cls: type) -> type:
    """Class decorator: a numpydoc ``Parameters`` section built from the fields (their type, default and
    ``help``), put in ``cls.__doc__`` before its ``Examples`` section — so the docs say what the command line says."""
    lines = ["Parameters", "----------"] if dataclasses.fields(cls) else []
    for field in dataclasses.fields(cls):
        kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
        default = "" if field.default is dataclasses.MISSING else f", default {field.default!r}"
        lines.append(f"{field.name} : {kind}{default}")
        lines.append(f"    {field.metadata.get('help', '')}")
    marker = "\nExamples\n--------\n"
    head, _, examples = inspect.cleandoc(cls.__doc__ or "").partition(marker)
    tail = "\n" + marker + examples if examples else ""
    cls.__doc__ = head.rstrip() + "\n\n" + "\n".join(lines) + tail + "\n"
    return cls
