r"""refimpl — the exact reference implementation of absorbing ("masked") discrete diffusion.

Data laws are float64 tables of shape ``(V,)*L`` (or :class:`Law` objects); partial sequences hold
tokens ``0..V-1`` and the mask ``V``.  See DESIGN.md for the notation and the interop contract.
"""
from . import datasets, denoisers, elbo, forward, lattice, samplers, schedules, space
from .denoisers import oracle_denoiser
from .elbo import nelbo
from .errors import (FileFormatError, InvalidDenoiserOutputError, InvalidLawError,
                     InvalidParameterError, InvalidSequenceError, InvalidTypeError, MemoryLimitError,
                     RefimplError, ZeroProbabilityError)
from .joint import (Law, conditional_law, conditional_marginals, entropy, kl, marginal, marginals,
                    mutual_information, total_correlation, tv)
from .calls import expected_calls
from .law import exact_law, sample
from .limits import get_memory_limit, memory_limit

__version__ = "0.1.0"

__all__ = [
    "FileFormatError", "InvalidDenoiserOutputError", "InvalidLawError", "InvalidParameterError",
    "InvalidSequenceError", "InvalidTypeError", "Law", "MemoryLimitError", "RefimplError",
    "ZeroProbabilityError", "conditional_law", "conditional_marginals", "datasets", "entropy",
    "get_memory_limit", "kl", "marginal", "marginals", "memory_limit", "mutual_information",
    "space", "total_correlation", "tv", "denoisers", "elbo", "forward", "lattice", "schedules",
    "oracle_denoiser", "nelbo", "samplers", "exact_law", "expected_calls", "sample",
]
