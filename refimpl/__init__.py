r"""refimpl — the exact reference implementation of absorbing ("masked") discrete diffusion.

Data laws are float64 tables of shape ``(V,)*L`` (or :class:`Law` objects); partial sequences hold
tokens ``0..V-1`` and the mask ``V``.  The layers, bottom to top (docs/DESIGN.md has the map):
:mod:`refimpl.core` (errors, validation, memory limits, numerics), :mod:`refimpl.laws` (data laws and
their information quantities), :mod:`refimpl.denoisers`, :mod:`refimpl.diffusion` (schedules, the forward
process, the NELBO), :mod:`refimpl.engine` (exact laws, sampling, model calls),
:mod:`refimpl.samplers`, :mod:`refimpl.limits` (what any sampler can reach), :mod:`refimpl.models` (the NumPy MLP
and its training), :mod:`refimpl.reports`,
:mod:`refimpl.experiments`, :mod:`refimpl.interop` (verify, golden vectors, adapters) and
:mod:`refimpl.cli`.  The names below are the stable public API (docs/DESIGN.md, interop contract).
"""
import importlib

from ._version import __version__
from .core.errors import (
                          FileFormatError,
                          InvalidDenoiserOutputError,
                          InvalidLawError,
                          InvalidParameterError,
                          InvalidSequenceError,
                          InvalidTypeError,
                          MemoryLimitError,
                          RefimplError,
                          ZeroProbabilityError,
)

# The rest of the public API is loaded on first use (PEP 562): ``import refimpl`` costs no numpy, scipy or
# engine until a name is read, and then only the modules that name needs (benchmarks/imports.py measures it).
_WHERE = {
    "get_memory_limit": "core.memory", "memory_limit": "core.memory",
    "oracle_denoiser": "denoisers", "nelbo": "diffusion.elbo", "sweep": "experiments.sweep",
    "exact_law": "engine", "expected_calls": "engine", "problem": "engine", "run": "engine", "sample": "engine",
    "tie_probability": "engine",
    "Law": "laws.joint", "conditional_law": "laws.joint", "conditional_marginals": "laws.joint",
    "marginal": "laws.joint", "marginals": "laws.joint",
    "dual_total_correlation": "laws.quantities", "entropy": "laws.quantities", "kl": "laws.quantities",
    "mutual_information": "laws.quantities", "total_correlation": "laws.quantities", "tv": "laws.quantities",
}
_MODULES = {
    "datasets": "laws.datasets", "lattice": "laws.lattice", "metrics": "laws.metrics", "space": "laws.space",
    "denoisers": "denoisers", "elbo": "diffusion.elbo", "forward": "diffusion.forward",
    "schedules": "diffusion.schedules", "engine": "engine", "samplers": "samplers", "limits": "limits",
    "checkpoint": "models.checkpoint", "mlp": "models.mlp", "train": "models.train", "testing": "testing",
}


def __getattr__(name):
    """A public name, imported from its module the first time it is read."""
    if name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    elif name in _MODULES:
        value = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    else:
        raise AttributeError(f"module 'refimpl' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = ["FileFormatError", "InvalidDenoiserOutputError", "InvalidLawError", "InvalidParameterError",
           "InvalidSequenceError", "InvalidTypeError", "MemoryLimitError", "RefimplError", "ZeroProbabilityError",
           "__version__", *_WHERE, *(name for name in _MODULES if name not in ("engine", "testing"))]
