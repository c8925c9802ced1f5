r"""A sweep's specification (issue #24): a TOML or JSON file naming the exact computations to run, expanded into
independent tasks.

.. code-block:: toml

    [sweep]
    task = "frontier"          # per (law, sampler): KL, TV, incoherent mass and expected model calls; or "limits"
    denoiser = "oracle"        # or a checkpoint of refimpl train (a list: one axis more); limits: oracle only

    [[laws]]
    data = "dirichlet"         # dirichlet, markov, parity, coupled, uniform (refimpl.laws.datasets.named)
    vocab_size = 3
    length = 4
    seed = [0, 1, 2]           # a list is a grid axis: one task per value

    [[samplers]]
    family = "llada"           # a family of refimpl.samplers.NAMES (its class name, "LLaDA", is read too)
    steps = [1, 2, 4]
    temperature = 1.0

Every list is an axis; a block's tasks are the product of its axes, the sweep's the product of its laws and
samplers ("limits" reads no samplers).  A task is known by the SHA-256 of its inputs in canonical JSON, so
the same inputs are the same task whatever the file's order.  Each sampler is built while the file is read:
an unknown family, parameter or value is refused with the line it is on.
"""
import dataclasses
import hashlib
import itertools
import json
import re

from ..core import validate
from ..core.errors import FileFormatError, InvalidParameterError, RefimplError
from ..diffusion import schedules
from ..laws.datasets import NAMED
from ..models.checkpoint import load
from ..samplers import registry

TASKS = ("frontier", "limits")
LAW_DEFAULTS = {"data": "dirichlet", "vocab_size": 3, "length": 4, "seed": 0, "concentration": 0.5}
LAW_KEYS = tuple(LAW_DEFAULTS)


@dataclasses.dataclass(frozen=True)
class Task:
    """One exact computation: ``task`` on the law ``law`` (every parameter, defaults filled in) with ``sampler``
    (its spec entry, or None); ``identity`` is the built sampler's repr (all its fields), so that two entries
    naming the same sampler differently are one task."""

    task: str
    law: dict
    sampler: "dict | None"
    identity: "str | None" = None
    denoiser: str = "oracle"  # or a checkpoint written by ``refimpl train``
    digest: "str | None" = None  # the checkpoint file's SHA-256: a retrained model is another task
    law_digest: "str | None" = None  # a .npy law's SHA-256: a changed table is another task

    def inputs(self) -> dict:
        out = {"task": self.task, "law": self.law, "sampler": self.sampler}
        return out if self.denoiser == "oracle" else dict(out, denoiser=self.denoiser)

    @property
    def key(self) -> str:
        """The first 20 hex digits of the SHA-256 of (task, law, sampler identity[, checkpoint digest]) in
        canonical JSON."""
        identity = {"task": self.task, "law": self.law, "sampler": self.identity}
        if self.denoiser != "oracle":
            identity["denoiser"] = self.digest
        if self.law_digest is not None:
            identity["law_file"] = self.law_digest
        text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def read_spec(path: str) -> tuple:
    """``(spec, text)`` from a ``.toml`` or ``.json`` file."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise FileFormatError(f"cannot read the sweep spec {path}: {error}") from None
    return parse_spec(text, "toml" if str(path).endswith(".toml") else "json", path), text


def parse_spec(text: str, form: str, name: str = "the spec") -> dict:
    if form == "toml":
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise FileFormatError("TOML sweep specs need Python 3.11 (tomllib); write the spec as JSON") from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise FileFormatError(f"{name} is not valid TOML: {error}") from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as error:
        raise FileFormatError(f"{name} is not valid JSON: {error}") from None
    if not isinstance(spec, dict):
        raise FileFormatError(f"{name} must hold a table (a JSON object) at the top")
    return spec


def line_of(text: str, key: str, block: str, occurrence: int) -> "int | None":
    """The line (1-based) of ``key`` inside the ``occurrence``-th ``block`` entry of the spec's text (TOML: the
    ``[[block]]`` tables; JSON: the objects of the ``"block"`` list, counted by their first key), or None."""
    lines = text.splitlines()
    toml_header = re.compile(r"^\s*\[\[?\s*" + re.escape(block) + r"\s*\]\]?\s*$")
    starts = [i for i, line in enumerate(lines) if toml_header.match(line)]
    if not starts:  # JSON: the block's objects, one opening brace each, after the line naming the block
        opened = next((i for i, line in enumerate(lines) if f'"{block}"' in line), None)
        if opened is None:
            return None
        first = lines[opened]
        starts = ([opened] if "{" in first[first.index(f'"{block}"'):] else [])
        starts += [i for i in range(opened + 1, len(lines)) if "{" in lines[i]]
    if occurrence >= len(starts):
        return None
    end = starts[occurrence + 1] if occurrence + 1 < len(starts) else len(lines)
    pattern = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*[=:]')
    for i in range(starts[occurrence], end):
        if pattern.match(lines[i]) or f'"{key}"' in lines[i]:
            return i + 1
    return starts[occurrence] + 1


def _where(text, key, block, occurrence):
    line = line_of(text, key, block, occurrence)
    return f"line {line}: " if line is not None else ""


def axes(entry: dict) -> list:
    """The entry's grid: every combination of its list values, in the file's key order."""
    keys = list(entry)
    values = [entry[k] if isinstance(entry[k], list) else [entry[k]] for k in keys]
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


def _file_digest(path):
    """A file's SHA-256 (a law table or a checkpoint: what a task's key holds of it)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError as error:
        raise InvalidParameterError(f"cannot read {path}: {error}") from None


def _checkpoint(name, text):
    """``(name, SHA-256 of the file, (V, L))`` of a checkpoint written by ``refimpl train``; ``("oracle", None,
    None)`` for the oracle."""
    if name == "oracle":
        return name, None, None
    try:
        digest = _file_digest(name)
        model = load(name)[0]
    except (RefimplError, TypeError) as error:
        raise InvalidParameterError(f"{_where(text, 'denoiser', 'sweep', 0)}denoiser must be 'oracle' or a "
                                    f"checkpoint written by refimpl train; {name!r}: {error}") from None
    return name, digest, (model.vocab_size, model.length)


def _check_law(law: dict) -> None:
    """A law's parameters, checked without building its table."""
    data = law["data"]
    if not isinstance(data, str) or (data not in NAMED and not data.endswith(".npy")):
        raise InvalidParameterError(f"data must be one of {', '.join(NAMED)} or a .npy file, got {data!r}")
    validate.space(law["vocab_size"], law["length"])
    validate.integer(law["seed"], "seed", 0)


def build_sampler(params: dict):
    """The sampler of a spec entry ``{"family": ..., parameters}``: a family of the registry
    (:data:`refimpl.samplers.NAMES`), a schedule by name, and semi_ar's ``inner`` as a table of its own
    (``inner = {family = "random_k", tokens_per_step = 2}``)."""
    params = dict(params)
    family = registry.family(params.pop("family", None))
    if isinstance(params.get("schedule"), str):
        params["schedule"] = schedules.named(params["schedule"])
    if isinstance(params.get("inner"), dict):
        params["inner"] = build_sampler(params["inner"])
    return family.build(**params)


def expand(spec: dict, text: str = "") -> list:
    """The tasks of a spec, each checked (its law's parameters and its sampler built); errors name the line."""
    unknown_top = [k for k in spec if k not in ("sweep", "laws", "samplers")]
    if unknown_top:
        raise InvalidParameterError(f"{_where(text, unknown_top[0], unknown_top[0], 0)}the spec has no section "
                                    f"{unknown_top[0]!r} (sections: sweep, laws, samplers)")
    head = spec.get("sweep", {})
    bad = [k for k in head if k not in ("task", "denoiser")]
    if bad:
        raise InvalidParameterError(f"{_where(text, bad[0], 'sweep', 0)}sweep has no parameter {bad[0]!r} "
                                    f"(its parameters: task, denoiser)")
    task = head.get("task", "frontier")
    given = head.get("denoiser", "oracle")
    denoisers = [_checkpoint(d, text) for d in (given if isinstance(given, list) else [given])]
    if task == "limits" and any(name != "oracle" for name, _, _ in denoisers):
        raise InvalidParameterError(f"{_where(text, 'denoiser', 'sweep', 0)}a limits sweep is the oracle's: it "
                                    f"takes no checkpoint")
    if task not in TASKS:
        raise InvalidParameterError(f"{_where(text, 'task', 'sweep', 0)}task must be one of {', '.join(TASKS)}, "
                                    f"got {task!r}")
    laws = spec.get("laws")
    if not isinstance(laws, list) or not laws:
        raise InvalidParameterError("the spec needs at least one [[laws]] entry")
    law_grid = []
    for n, entry in enumerate(laws):
        bad = [k for k in entry if k not in LAW_KEYS]
        if bad:
            raise InvalidParameterError(f"{_where(text, bad[0], 'laws', n)}laws has no parameter {bad[0]!r} "
                                        f"(its parameters: {', '.join(LAW_KEYS)})")
        for combo in axes(entry):
            law = {**LAW_DEFAULTS, **combo}
            try:
                _check_law(law)
            except RefimplError as error:
                key = next((k for k in combo if k in str(error)), "data")
                raise InvalidParameterError(f"{_where(text, key, 'laws', n)}{error}") from None
            law_grid.append(law)
    entries = spec.get("samplers", [])
    if task == "limits" and entries:
        raise InvalidParameterError(f"{_where(text, 'family', 'samplers', 0)}a limits sweep reads no samplers")
    if task == "frontier" and not entries:
        raise InvalidParameterError("a frontier sweep needs at least one [[samplers]] entry")
    sampler_grid = []
    for n, entry in enumerate(entries):
        for params in axes(entry):
            try:
                identity = repr(build_sampler(params))
            except RefimplError as error:
                key = next((k for k in params if k in str(error)), "family")
                raise InvalidParameterError(f"{_where(text, key, 'samplers', n)}{error}") from None
            except TypeError as error:
                raise InvalidParameterError(f"{_where(text, 'family', 'samplers', n)}{error}") from None
            sampler_grid.append((params, identity))
    tasks = []
    for law in law_grid:
        for name, digest, dims in denoisers:
            if dims is not None and dims != (law["vocab_size"], law["length"]):
                raise InvalidParameterError(
                    f"{_where(text, 'denoiser', 'sweep', 0)}{name} is a model for V={dims[0]}, L={dims[1]}; the law "
                    f"{law} has V={law['vocab_size']}, L={law['length']}")
            law_digest = _file_digest(law["data"]) if law["data"].endswith(".npy") else None
            tasks += [Task(task, law, params, identity, name, digest, law_digest)
                      for params, identity in (sampler_grid or [(None, None)])]
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise InvalidParameterError(f"the spec names one task twice: {tasks[keys.index(duplicate)].inputs()}")
    return tasks


def fingerprint(tasks: list) -> str:
    """The sweep's identity: the SHA-256 of its task keys, sorted."""
    return hashlib.sha256("\n".join(sorted(t.key for t in tasks)).encode("ascii")).hexdigest()
