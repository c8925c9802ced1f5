r"""The optimal denoiser of a model trained to distrust what it sees: every visible token may be a uniform substitution
(LLaDA2.1's token-to-token training stream; the "E-train" oracle of SAMPLERS-2026.md section 1)."""
import numpy as np

from ..core import validate
from ..core.memory import check_memory
from ..core.types import LawLike
from ..laws.lattice import lattice_bytes
from .oracle import OracleDenoiser
from .tables import TableDenoiser, table_bytes


def substituted(table: np.ndarray, rate: float, keep: int) -> np.ndarray:
    r"""The law of x with every position but ``keep`` passed through the uniform substitution channel
    :math:`k(z \mid x) = (1 - r)[z = x] + r / V` (``rate`` r), position ``keep`` left clean."""
    vocab_size = table.shape[0]
    channel = (1.0 - rate) * np.eye(vocab_size) + rate / vocab_size  # (x, z)
    out = table
    for axis in range(table.ndim):
        if axis != keep:
            out = np.moveaxis(np.tensordot(out, channel, axes=([axis], [0])), -1, axis)
    return out


def substitution_oracle(p: LawLike, rate: float) -> TableDenoiser:
    r"""The Bayes-optimal prediction at every masked position when each visible token is, in training, replaced with
    probability ``rate`` by a uniform draw over the V tokens (possibly itself):

    .. math::  \mu(z)_{i,v} \propto \sum_{x:\,x_i = v} p(x) \prod_{j \in C(z)} \big((1 - r)[z_j = x_j] + r / V\big)

    — the oracle of the law with every position but i substituted, read at i.  ``rate=0`` is the ordinary oracle.
    Clean positions are carried over, as every denoiser's; the prediction *at* a clean position j of such a model is
    this answer with j masked times the likelihood of the token seen there
    (:func:`refimpl.samplers.steps.refine.substitution_posterior`, ``substitution_rate=`` of the editing samplers).
    The mixture of masking and substitution in LLaDA2.1's training is not published: the rate is the user's.

    Parameters
    ----------
    p : array_like or Law
        The data law.
    rate : float
        The substitution probability r in [0, 1].

    Returns
    -------
    TableDenoiser
        A denoiser (B, L) -> (B, L, V).

    Examples
    --------
    >>> import numpy as np, refimpl
    >>> from refimpl.denoisers.substitution import substitution_oracle
    >>> p = refimpl.datasets.coupled_pairs()            # AB or CD, each 1/2 (V = 4)
    >>> substitution_oracle(p, 0.5)(np.array([[0, 4]]))[0, 1].round(4)   # A seen: AB 0.625 / 2 against CD 0.125 / 2
    array([0.    , 0.8333, 0.    , 0.1667])
    """
    table = validate.law_table(p)
    rate = validate.probability(rate, "substitution rate")
    vocab_size, length = table.shape[0], table.ndim
    check_memory(lattice_bytes(vocab_size, length) + 2 * table_bytes(vocab_size, length),
                 f"the substitution oracle for V={vocab_size}, L={length}")
    tables = [OracleDenoiser(substituted(table, rate, i)).tables[i] for i in range(length)]
    return TableDenoiser(tables, vocab_size, length)
