"""The exceptions refimpl raises at its public boundaries.

Every error is a :class:`RefimplError` and also a builtin ``ValueError`` or ``TypeError``, so callers
that already catch those keep working.  Messages say what was wrong and what to do instead.
"""


class RefimplError(Exception):
    """Base class of every error refimpl raises on purpose.

    Examples
    --------
    >>> import refimpl
    >>> try:
    ...     refimpl.entropy([[0.5, 0.6]])
    ... except refimpl.RefimplError as error:              # every refimpl error; also a ValueError or TypeError
    ...     print(type(error).__name__, isinstance(error, ValueError))
    InvalidLawError True
    """


class InvalidLawError(RefimplError, ValueError):
    """A probability table is negative, NaN, unnormalised or of the wrong shape.

    Examples
    --------
    >>> import refimpl
    >>> try:
    ...     refimpl.entropy([[0.5, 0.6], [0.0, 0.0]])
    ... except refimpl.InvalidLawError as error:
    ...     print(error)
    p sums to 1.1, not 1 (tolerance 1e-09); divide it by its sum first
    """


class InvalidSequenceError(RefimplError, ValueError):
    """A clean or partial sequence has the wrong length or holds a token outside its range.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> try:
    ...     refimpl.conditional_marginals(np.full((2, 2), 0.25), [0, 7])
    ... except refimpl.InvalidSequenceError as error:
    ...     print(type(error).__name__)
    InvalidSequenceError
    """


class InvalidParameterError(RefimplError, ValueError):
    """A size, position set, schedule or sampler parameter is out of range.

    Examples
    --------
    >>> import refimpl
    >>> try:
    ...     refimpl.samplers.LLaDA(steps=0)
    ... except refimpl.InvalidParameterError as error:
    ...     print(error)
    LLaDA steps must be at least 1, got 0
    """


class InvalidDenoiserOutputError(RefimplError, ValueError):
    """A denoiser returned something that is not a valid (B, L, V) probability array.

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> def broken(z):                                          # rows that do not sum to 1
    ...     return np.full(z.shape + (2,), 0.7)
    >>> try:
    ...     refimpl.exact_law(broken, refimpl.samplers.LeftToRight(), 2, 2)
    ... except refimpl.InvalidDenoiserOutputError as error:
    ...     print(type(error).__name__)
    InvalidDenoiserOutputError
    """


class ZeroProbabilityError(RefimplError, ValueError):
    """Conditioning on an event of probability zero under the data law.

    Examples
    --------
    >>> import refimpl
    >>> try:
    ...     refimpl.conditional_law(refimpl.datasets.coupled_pairs(), [1, 4])   # B first never happens
    ... except refimpl.ZeroProbabilityError as error:
    ...     print(type(error).__name__)
    ZeroProbabilityError
    """


class MemoryLimitError(RefimplError, ValueError):
    """An enumeration would allocate more memory than the configured limit.

    Examples
    --------
    >>> import refimpl
    >>> with refimpl.memory_limit(1000):
    ...     try:
    ...         refimpl.datasets.parity(4, 8)                       # a table of 4^8 float64 values
    ...     except refimpl.MemoryLimitError as error:
    ...         print(type(error).__name__)
    MemoryLimitError
    """


class InvalidTypeError(RefimplError, TypeError):
    """A value of the wrong type, or an array of the wrong dtype (laws are float64, tokens integers).

    Examples
    --------
    >>> import refimpl
    >>> try:
    ...     refimpl.exact_law(refimpl.oracle_denoiser([0.5, 0.5]), "llada", 1, 2)
    ... except refimpl.InvalidTypeError as error:
    ...     print(type(error).__name__, isinstance(error, TypeError))
    InvalidTypeError True
    """


class FileFormatError(RefimplError, ValueError):
    """A file refimpl reads is truncated, corrupted, of another schema version, or not ours.

    Examples
    --------
    >>> import refimpl
    >>> try:
    ...     refimpl.checkpoint.load("/nonexistent.npz")
    ... except refimpl.FileFormatError as error:
    ...     print(type(error).__name__)
    FileFormatError
    """
