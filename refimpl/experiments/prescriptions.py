r"""The paper's prescriptions: small semi-autoregressive blocks, trained blockwise in reverse order.

Inference strategies: ``SemiAR(b, RandomK(k))`` for block lengths b in {1, 2, 4, L} and tokens per
step k in {1, 2, all of the block}.  Denoisers: the oracle, and MLPs trained with an equal budget
(same steps, batch, learning rate, seed) by uniform random masking or by blockwise reverse-order
masking with block size 2 or 4.  Every cell is the exact KL(p || q) of the sampler's output law.
"""
from .. import samplers
from ..denoisers import oracle_denoiser, tabulate
from ..diffusion import schedules
from ..engine.exact import exact_law
from ..laws.quantities import kl
from ..models import mlp
from ..models.train import TrainConfig, train
from ..reports.tables import Report, Table
from .executors import ordered_map
from .homogenisation import law as chain_law

TRAINING = (("uniform random masking", "random", 1), ("blockwise reverse-order, b=2", "blockwise", 2),
            ("blockwise reverse-order, b=4", "blockwise", 4))


def strategies(length):
    grid = []
    for block in (1, 2, 4, length):
        for k in sorted({1, min(2, block), block}):
            grid.append((block, k))
    return grid


def train_models(table, steps=1500, seed=0, progress=None, raw=None, executor=None):
    """One MLP per training strategy, equal budget; returned tabulated (fast exact laws).

    ``raw`` (a dict), if given, receives the MLPs themselves.  ``executor``: the trainings run side by side on it
    (each deterministic by its seed; the weights' last digits depend on how many BLAS threads share the products,
    :func:`refimpl.experiments.executors.single_threaded_pool`).
    """
    if progress:
        progress(f"training {len(TRAINING)} MLPs ({', '.join(name for name, _, _ in TRAINING)})")
    trained = ordered_map(Training(table, steps, seed), TRAINING, executor)
    models = {}
    for (name, _, _), (model, tabulated) in zip(TRAINING, trained):
        models[name] = tabulated
        if raw is not None:
            raw[name] = model
    return models


class Training:
    """One training strategy's MLP and its table, ``(model, tabulated)``: a picklable callable (a pool runs it)."""

    def __init__(self, table, steps, seed):
        self.table, self.steps, self.seed = table, steps, seed

    def __call__(self, strategy):
        _, masking, block = strategy
        table = self.table
        config = mlp.MLPConfig(table.vocab_size, table.length, (128, 128), "gelu")
        model, _ = train(table, config, TrainConfig(steps=self.steps, batch_size=256, lr=3e-3, masking=masking,
                                                    block_size=block, seed=self.seed),
                         schedule=schedules.Polynomial(2.0), progress=False)
        return model, tabulate(model, table.vocab_size, table.length)


class _Cell:
    """One cell of the grid, KL(p || q) of SemiAR(block, RandomK(k)) with a denoiser: a picklable callable."""

    def __init__(self, table, denoisers):
        self.table, self.denoisers = table, denoisers

    def __call__(self, cell):
        name, block, k = cell
        sampler = samplers.SemiAR(block, samplers.RandomK(k))
        return kl(self.table, exact_law(self.denoisers[name], sampler, self.table.length, self.table.vocab_size))


def prescriptions_experiment(models=None, progress=None, executor=None):
    """The grid of strategies x denoisers, exactly; ``executor``: the cells run side by side on it (the same
    numbers)."""
    table = chain_law()
    length = table.length
    denoisers = {"oracle": oracle_denoiser(table)}
    denoisers.update(models if models is not None else {})
    grid = strategies(length)
    if progress:
        progress(f"exact laws for {len(denoisers)} denoisers x {len(grid)} strategies")
    cells = [(name, block, k) for name in denoisers for block, k in grid]
    results = dict(zip(cells, ordered_map(_Cell(table, denoisers), cells, executor)))
    names = list(denoisers)
    rows = tuple((block, "all" if k == block and block > 2 else k, length // block * -(-block // k))
                 + tuple(results[(n, block, k)] for n in names) for block, k in grid)
    findings = {}
    trained = [n for n in names if n != "oracle"]
    best = {n: min((results[(n, b, k)], b, k) for b, k in grid) for n in trained}
    for n in trained:
        findings[f"{n}: best KL"] = best[n][0]
        findings[f"{n}: best at"] = f"block {best[n][1]}, {best[n][2]} token(s) per step"
    if len(trained) > 1:
        ranked = sorted(trained, key=lambda n: best[n][0])
        findings["winner"] = f"{ranked[0]}, block {best[ranked[0]][1]}, {best[ranked[0]][2]} token(s) per step"
        findings["winner KL / runner-up KL"] = best[ranked[0]][0] / best[ranked[1]][0]
        small = [(b, k) for b, k in grid if b == 2 and k == 1]
        if small and TRAINING[1][0] in trained:
            findings["block 2, one token/step: blockwise(b=2) KL / uniform KL"] = (
                results[(TRAINING[1][0],) + small[0]] / results[(TRAINING[0][0],) + small[0]])
    findings["oracle: KL with all tokens at once (= TC)"] = results[("oracle", length, length)]
    return Report(
        name="prescriptions",
        title=f"Inference x training strategies: exact KL(p || q), reversible 4-state chain, L = {length}",
        tables=(Table("SemiAR(block, RandomK(k)): rows are inference strategies, columns denoisers",
                      ("block", "tokens/step", "steps") + tuple(names), rows,
                      nonnegative=tuple(range(3, 3 + len(names)))),),  # every cell a KL
        findings=findings,
        notes=("Equal training budget: 1500 Adam steps of 256 sequences, lr 3e-3 with cosine decay, seed 0, "
               "Polynomial(2) schedule; the oracle column is the exact limit of perfect training.",))
