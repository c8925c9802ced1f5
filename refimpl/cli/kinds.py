"""What a command-line number may be, checked where it enters: argparse types whose errors are one line naming the
value (``refimpl verify: error: argument --samples: must be an integer >= 1, got '0'``), exit 2, before any work."""
import argparse
import math


def count(minimum=1):
    """An integer >= ``minimum`` (a sample size, a step count, a number of workers)."""

    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    convert.__name__ = f"integer >= {minimum}"
    return convert


def _real(text, wanted):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
    return value


def rate(text):
    """A false-alarm rate: strictly between 0 and 1."""
    value = _real(text, "a false-alarm rate strictly between 0 and 1")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a false-alarm rate strictly between 0 and 1, got {text!r}")
    return value


def nonnegative(text):
    """A finite number >= 0 (a tolerance, a concentration's lower end)."""
    value = _real(text, "a finite number >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def positive(text):
    """A finite number > 0 (a learning rate, a KL budget, a Dirichlet concentration)."""
    value = _real(text, "a finite number > 0")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


rate.__name__, nonnegative.__name__, positive.__name__ = "rate", "number >= 0", "number > 0"
