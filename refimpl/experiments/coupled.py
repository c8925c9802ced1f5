r"""The coupled-pair demo: what one parallel decoding step does to a law of coupled tokens.

For a law over two positions whose values always come in pairs (AB or CD), a perfectly trained
masked-diffusion model answers the fully masked query with the marginals; a step that reveals both
positions samples their product, which puts mass on AD and CB — pairs the data never contains.
The loss is exactly the total correlation, :math:`KL(p \| p_1 \otimes p_2) = TC(p) = I(X_1; X_2)`.
"""
import numpy as np

from ..laws import datasets, joint, quantities, space
from ..reports.tables import Report, Table, letters


def coupled_pair_demo(law=None):
    """Exact analysis of a one-step parallel decode of a coupled law (default: AB / CD, 1/2 each)."""
    law = datasets.coupled_pairs() if law is None else datasets.from_table(np.asarray(law))
    table = law.table
    vocab_size, length = law.vocab_size, law.length
    rows = joint.marginals(table)  # (L, V)
    prod = datasets.product(rows).table
    marginal_table = Table(
        title="Marginal of each position (what the optimal denoiser returns for the all-mask query)",
        headers=("position",) + tuple(letters([v]) for v in range(vocab_size)),
        rows=tuple((i + 1,) + tuple(float(x) for x in rows[i]) for i in range(length)))
    joint_rows = []
    for index, x in enumerate(space.clean_sequences(vocab_size, length)):
        p_x, q_x = float(table.ravel()[index]), float(prod.ravel()[index])
        if p_x > 0 or q_x > 0:
            joint_rows.append((letters(x), p_x, q_x, "yes" if p_x > 0 else "NO (incoherent)"))
    joint_table = Table(
        title="Joint law next to the product of marginals (one parallel step)",
        headers=("sequence", "joint p", "product q", "in the data?"),
        rows=tuple(joint_rows))
    findings = {
        "total_correlation": quantities.total_correlation(table),
        "kl_joint_to_product": quantities.kl(table, prod),
        "incoherent_mass": float(prod[table == 0].sum()),
        "tv_joint_product": quantities.tv(table, prod),
        "entropy": quantities.entropy(table),
    }
    return Report(name="coupled_pairs", title="Coupled pairs: one parallel step loses the coupling",
                  tables=(marginal_table, joint_table), findings=findings,
                  notes=("KL(joint || product) equals the total correlation: the exact loss of "
                         "revealing all positions in one step with the optimal denoiser.",))
