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
from . import denoisers, limits, samplers
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
from .core.memory import get_memory_limit, memory_limit
from .denoisers import oracle_denoiser
from .diffusion import elbo, forward, schedules
from .diffusion.elbo import nelbo
from .engine import exact_law, expected_calls, problem, run, sample, tie_probability
from .experiments.sweep import sweep
from .laws import datasets, lattice, metrics, space
from .laws.joint import Law, conditional_law, conditional_marginals, marginal, marginals
from .laws.quantities import dual_total_correlation, entropy, kl, mutual_information, total_correlation, tv
from .models import checkpoint, mlp, train

__all__ = [
    "FileFormatError", "InvalidDenoiserOutputError", "InvalidLawError", "InvalidParameterError",
    "InvalidSequenceError", "InvalidTypeError", "Law", "MemoryLimitError", "RefimplError",
    "ZeroProbabilityError", "conditional_law", "conditional_marginals", "dual_total_correlation", "datasets", "entropy",
    "get_memory_limit", "kl", "marginal", "marginals", "memory_limit", "mutual_information",
    "space", "total_correlation", "tv", "denoisers", "elbo", "forward", "lattice", "schedules",
    "oracle_denoiser", "nelbo", "samplers", "exact_law", "expected_calls", "sample",
    "__version__", "checkpoint", "metrics", "mlp", "train", "tie_probability", "limits", "sweep", "problem", "run",
]
