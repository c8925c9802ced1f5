r"""Random step sizes drawn independently of the tokens, possibly depending on how many are revealed (Zhao and Cai's
class, ZC1 of ../shared/THEORY.md; issue #39, build 2)."""
import dataclasses

import numpy as np

from ..core.errors import InvalidParameterError
from .params import documented, param
from .plans import as_eligible
from .steps import IF_MASKED, FixedCount, RandomSizeKStep


def _law(text):
    """``"1;0.5,0.5;0.2,0.3,0.5"`` -> rows by number masked (row m: the probabilities of k = 1..m)."""
    try:
        return tuple(tuple(float(v) for v in row.split(",")) for row in str(text).split(";"))
    except ValueError:
        raise InvalidParameterError(f"the size law must look like 1;0.5,0.5 (row m: P(k = 1..m)), got {text!r}") from None


@documented
@dataclasses.dataclass(frozen=True)
class RandomSizes:
    r"""Random-order decoding whose step sizes are drawn independently of the tokens: with m positions still masked a
    step reveals k of them, uniformly at random, with probability ``law[m-1][k-1]`` (k = 1..m; ``None``: uniform over
    1..m), every value from the oracle's conditional marginal; steps until nothing is masked, one model call each.
    With j = L - m revealed this is Zhao and Cai's size law :math:`\rho(k \mid j)`; its order-and-size-averaged KL is
    the recursion :math:`V(j) = \sum_k \rho(k\mid j)[e(j,k) + V(j+k)]` (proofs/chen.md, ZC1), and the law this sampler
    outputs is the mixture over size sequences of random-order decoding's.

    Examples
    --------
    >>> import refimpl
    >>> from refimpl.samplers.random_sizes import RandomSizes
    >>> p = refimpl.datasets.coupled_pairs()
    >>> q = refimpl.exact_law(refimpl.oracle_denoiser(p), RandomSizes(((1.0,), (0.5, 0.5))), 2, 4)
    >>> round(float(refimpl.kl(p, q)), 4)        # half the time both at once: loses log 2 there
    0.2877
    """

    law: object = param(None, help="the size law by number masked, e.g. 1;0.5,0.5 (row m: P(k = 1..m)); default "
                                   "uniform", convert=_law)

    def __post_init__(self):
        if self.law is None:
            return
        try:
            rows = tuple(tuple(float(v) for v in row) for row in self.law)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"the size law must be rows of probabilities, got {self.law!r}") from None
        for m, row in enumerate(rows, start=1):
            values = np.array(row)
            if len(row) != m or np.any(~np.isfinite(values)) or np.any(values < 0) or abs(values.sum() - 1) > 1e-9:
                raise InvalidParameterError(f"row {m} of the size law (m = {m} masked) must be {m} probabilities "
                                            f"summing to 1, got {row!r}")
        object.__setattr__(self, "law", rows)

    def rows(self, masked):
        """The size law for up to ``masked`` masked positions."""
        if self.law is None:
            return tuple(tuple([1.0 / m] * m) for m in range(1, masked + 1))
        if len(self.law) < masked:
            raise InvalidParameterError(f"the size law has rows for {len(self.law)} masked positions, the problem "
                                        f"{masked}")
        return self.law[:masked]

    def plan(self, masked, region):
        count = int(np.sum(np.asarray(masked) & np.asarray(region)))
        step = RandomSizeKStep(as_eligible(region), FixedCount(1), calls=IF_MASKED, law=self.rows(count))
        return [step] * count
