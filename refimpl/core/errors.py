"""The exceptions refimpl raises at its public boundaries.

Every error is a :class:`RefimplError` and also a builtin ``ValueError`` or ``TypeError``, so callers
that already catch those keep working.  Messages say what was wrong and what to do instead.
"""


class RefimplError(Exception):
    """Base class of every error refimpl raises on purpose."""


class InvalidLawError(RefimplError, ValueError):
    """A probability table is negative, NaN, unnormalised or of the wrong shape."""


class InvalidSequenceError(RefimplError, ValueError):
    """A clean or partial sequence has the wrong length or holds a token outside its range."""


class InvalidParameterError(RefimplError, ValueError):
    """A size, position set, schedule or sampler parameter is out of range."""


class InvalidDenoiserOutputError(RefimplError, ValueError):
    """A denoiser returned something that is not a valid (B, L, V) probability array."""


class ZeroProbabilityError(RefimplError, ValueError):
    """Conditioning on an event of probability zero under the data law."""


class MemoryLimitError(RefimplError, ValueError):
    """An enumeration would allocate more memory than the configured limit."""


class InvalidTypeError(RefimplError, TypeError):
    """A value of the wrong type, or an array of the wrong dtype (laws are float64, tokens integers)."""


class FileFormatError(RefimplError, ValueError):
    """A file refimpl reads is truncated, corrupted, of another schema version, or not ours."""
