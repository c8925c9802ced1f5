r"""The paper's toy coupling experiment: 100 sequences of length 5, query ``[M] [M] C D [M]``.

The paper ("Why mask diffusion does not work", Sun, Wen, Wang 2025) reports that a trained model
answers the query with the marginals P(x1 = A) = 0.55 and P(x2 = B) = 0.69 instead of the joint of the
coupled pair AB.  Its data set is not published; :func:`toy_sequences` builds one, deterministically,
whose exact conditional marginals at that query round to the paper's numbers:

- 29 sequences have C D at positions 3-4: 16 x ``A B C D .``, 4 x ``E B C D .``, 9 x ``E E C D .``
  so P(x1 = A | C D) = 16/29 = 0.5517 and P(x2 = B | C D) = 20/29 = 0.6897, while A is always followed
  by B: P(x1 x2 = AB | C D) = 16/29, far above the product 0.38;
- 71 sequences do not: 30 x ``C D A B .``, 20 x ``A B E E .``, 21 x ``E E A B .``;
- position 5 cycles through A B C D E within each group.

Positions are 1-based in the report, as in the paper.
"""
import numpy as np

from .. import samplers
from ..denoisers import oracle_denoiser
from ..engine.exact import exact_law
from ..laws import datasets, joint, metrics, quantities
from ..reports.tables import Report, Table, letters

TOKENS = "ABCDE"
GROUPS = (  # (count, first four tokens)
    (16, "ABCD"), (4, "EBCD"), (9, "EECD"),
    (30, "CDAB"), (20, "ABEE"), (21, "EEAB"),
)
QUERY = "MMCDM"  # 1-based positions 1, 2 and 5 masked


def toy_sequences():
    """The 100 x 5 data set (token ids 0..4 for A..E), in a fixed order."""
    rows = []
    for count, head in GROUPS:
        for k in range(count):
            rows.append([TOKENS.index(c) for c in head] + [k % len(TOKENS)])
    return np.array(rows, dtype=np.int64)


def query():
    """``[M] [M] C D [M]`` as a partial sequence (mask id 5)."""
    return np.array([len(TOKENS) if c == "M" else TOKENS.index(c) for c in QUERY], dtype=np.int64)


def _pair_law(law, prompt):
    """Law of positions 1-2 given the prompt: joint, and product of its marginals."""
    cond = joint.conditional_law(law, prompt)  # axes: masked positions 1, 2, 5
    pair = cond.sum(axis=2)
    return pair, np.outer(pair.sum(axis=1), pair.sum(axis=0))


def toy_experiment(model=None):
    """Exact analysis of the query, and (if given) the same numbers for a trained denoiser ``model``."""
    sequences = toy_sequences()
    law = datasets.empirical(sequences, vocab_size=len(TOKENS), name="toy")
    prompt = query()
    oracle = oracle_denoiser(law)
    mu = joint.conditional_marginals(law, prompt)
    pair, product = _pair_law(law, prompt)
    parallel = exact_law(oracle, samplers.FixedOrder([[0, 1, 4]]), 5, len(TOKENS), prompt=prompt)
    one_by_one = exact_law(oracle, samplers.LeftToRight(), 5, len(TOKENS), prompt=prompt)
    target = metrics.conditioned(law, prompt)
    findings = {
        "P(x1=A | query)": float(mu[0, 0]), "P(x2=B | query)": float(mu[1, 1]),
        "P(x1x2=AB | query)": float(pair[0, 1]), "P(x1=A)P(x2=B)": float(mu[0, 0] * mu[1, 1]),
        "parallel: P(pair never in data)": float(product[pair == 0].sum()),
        "parallel: KL(joint || product) of positions 1-2": quantities.kl(pair, product),
        "parallel (1,2,5 at once): incoherent mass": float(parallel[target == 0].sum()),
        "one token at a time: TV to the joint": quantities.tv(target, one_by_one),
    }
    rows = []
    for a in range(len(TOKENS)):
        for b in range(len(TOKENS)):
            if pair[a, b] > 0 or product[a, b] > 0:
                rows.append((letters([a, b]), float(pair[a, b]), float(product[a, b]),
                             "yes" if pair[a, b] > 0 else "NO"))
    tables = [
        Table("Exact conditional marginals at [M] [M] C D [M] (what the optimal denoiser returns)",
              ("position",) + tuple(TOKENS),
              tuple((i + 1,) + tuple(float(v) for v in mu[i]) for i in (0, 1, 4))),
        Table("Positions 1-2 given the query: the joint next to the product a parallel step samples",
              ("x1 x2", "joint", "product", "in the data?"), tuple(rows)),
    ]
    if model is not None:
        mu_model = model(prompt[None])[0]
        pair_model = np.outer(mu_model[0], mu_model[1])
        findings.update({
            "model: P(x1=A | query)": float(mu_model[0, 0]), "model: P(x2=B | query)": float(mu_model[1, 1]),
            "model: largest marginal error": float(np.abs(mu_model - mu)[[0, 1, 4]].max()),
            "model parallel: P(pair never in data)": float(pair_model[pair == 0].sum()),
        })
        tables.append(Table("Trained MLP's marginals at the query",
                            ("position",) + tuple(TOKENS),
                            tuple((i + 1,) + tuple(float(v) for v in mu_model[i]) for i in (0, 1, 4))))
    return Report(
        name="toy", title="Toy coupling experiment: 100 sequences of length 5, query [M] [M] C D [M]",
        tables=tuple(tables), findings=findings,
        notes=("The paper's data set is not published; this one is built (refimpl.experiments.toy) so the "
               "exact conditional marginals round to the paper's P(A)=0.55 and P(B)=0.69 (16/29, 20/29).",))
