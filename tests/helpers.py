"""Helpers only refimpl's own tests need; the strategies, laws and denoisers they test with come from
refimpl.testing (the toolkit is tested by use)."""
import functools
import os

import numpy as np
import refimpl
from refimpl.interop.goodness import chi_square_fit
from refimpl.testing.denoisers import RandomDenoiser
from refimpl.testing.strategies import dirichlet_table


def random_table(rng, vocab_size, length, concentration=1.0, zero_fraction=0.0):
    """A Dirichlet law from ``rng``'s stream (refimpl.testing.strategies.dirichlet_table)."""
    return dirichlet_table(rng, vocab_size, length, concentration, zero_fraction)


def random_denoiser(rng, vocab_size, length, sharpness=1.0, oracle=None, mix=0.0):
    """Random rows from ``rng``'s stream; with ``oracle`` and ``mix``, (1 - mix) oracle + mix random
    (refimpl.testing.denoisers.RandomDenoiser)."""
    return RandomDenoiser(vocab_size, length, rng, sharpness, oracle=oracle, mix=mix if oracle is not None else 1.0)


def product_table(rows):
    """Outer product of per-position rows, written independently of refimpl.datasets.product."""
    table = np.ones(())
    for row in rows:
        table = table[..., None] * np.asarray(row)
    return table


def assert_loop_agrees(loop, sampler, denoiser, table, seed, prompt=None, n=20000, alpha=1e-3):
    """An original's loop (tests/originals.py; with :func:`with_calls`, its model calls too) agrees with the
    sampler's exact law: refimpl.interop.verify.verify_sampler at false-alarm rate ``alpha``, seeded."""
    from refimpl.interop.verify import verify_sampler

    result = verify_sampler(loop, sampler, denoiser, table, n=n, seed=seed, prompt=prompt, alpha=alpha)
    assert result["samples_where_exact_law_is_zero"] == 0
    assert result["passed"], result


def assert_slip_caught(loop, sampler, denoiser, table, seed, prompt=None, n=20000, alpha=1e-3):
    """A loop with a deliberate slip fails the same check, by far (p < 1e-6)."""
    from refimpl.interop.verify import verify_sampler

    result = verify_sampler(loop, sampler, denoiser, table, n=n, seed=seed, prompt=prompt, alpha=alpha)
    assert not result["passed"] and result["p_value"] < 1e-6, result


def chi_square_pvalue(counts, expected_probs):
    """Pearson chi-square p-value (cells with expected count < 5 pooled); no sample may fall where the
    exact law has no mass."""
    fit = chi_square_fit(counts, expected_probs, alpha=1e-3)
    assert fit.impossible == 0, "samples fell where the exact law has no mass"
    return fit.p_value


@functools.cache
def sampler_law_and_denoisers(length=4):
    """The law (V=3, L=length) and the two denoisers ("oracle", "random") the sampler tests share."""
    rng = np.random.default_rng(2024)
    table = random_table(rng, 3, length, concentration=0.4)
    oracle = refimpl.oracle_denoiser(table)
    other = random_denoiser(rng, 3, length, sharpness=1.5)
    return table, {"oracle": oracle, "random": other}


def with_calls(original):
    """An original loop (tests/originals.py) as a verify target that also reports each row's model calls."""
    def target(denoiser, n, rng, length, vocab_size, prompt):
        calls = np.zeros(n, dtype=np.int64)
        return original(denoiser, n, rng, length, vocab_size, prompt, calls=calls), calls
    return target


def settings_name(settings, prompt):
    """A test id for a sampler's settings (a dict) and whether a prompt is given."""
    return "-".join(f"{k}={v}" for k, v in settings.items()) + ("" if prompt is None else "-prompt")


def samples_pvalue(denoiser, sampler, length, vocab_size, n, seed, prompt=None):
    """``(law, p)``: the sampler's exact law and the chi-square p-value of ``n`` draws of refimpl.sample
    (seeded with ``seed``) against it; no draw may fall where the law has no mass."""
    import refimpl

    law = refimpl.exact_law(denoiser, sampler, length, vocab_size, prompt=prompt)
    drawn = refimpl.sample(denoiser, sampler, n, np.random.default_rng(seed), length, vocab_size, prompt=prompt)
    counts = np.bincount(refimpl.space.encode(drawn, vocab_size), minlength=law.size)
    return law, chi_square_pvalue(counts, law.ravel())


def engine_run(denoiser, sampler, length, vocab_size, prompt=None, **options):
    """One run of the engine (:func:`refimpl.engine.run`) on the problem of these arguments."""
    return refimpl.engine.run(refimpl.engine.problem(denoiser, sampler, length, vocab_size, prompt), **options)


def user_environment():
    """``os.environ`` as the user has it, without the one BLAS thread the suite gives its workers (tests/conftest.py):
    for a subprocess whose output is compared with a quote made by the plain command (trained models' last digits
    depend on the BLAS threads)."""
    env = dict(os.environ)
    if env.pop("REFIMPL_TESTS_SET_BLAS", None):
        env.pop("OPENBLAS_NUM_THREADS", None)
    return env


def perturbed_and_oracles(vocab_size, length, seeds=3, concentration=0.2, mix=0.3):
    """For each seed, a Dirichlet law's perturbed oracle and the oracle itself: the models issue #37's tests run
    the originals' greedy loops with."""
    for seed in range(seeds):
        table = refimpl.datasets.dirichlet(vocab_size, length, np.random.default_rng(seed),
                                           concentration=concentration).table
        yield refimpl.testing.perturbed_oracle(table, mix=mix, seed=seed)
        yield refimpl.oracle_denoiser(table)


def assert_point_mass_agrees(loop, sampler, denoisers, vocab_size, length, prompt=None, **settings):
    """A greedy original (``loop``, tests/originals.py, with ``settings``) against refimpl's ``sampler``: for each
    denoiser, the loop's output holds the whole exact law and its model calls are the exact expected calls."""
    for denoiser in denoisers:
        calls = np.zeros(1, dtype=np.int64)
        x = loop(denoiser, 1, None, length, vocab_size, prompt, calls=calls, **settings)[0]
        law = refimpl.exact_law(denoiser, sampler, length, vocab_size, prompt=prompt)
        assert abs(law[tuple(x)] - 1.0) <= 1e-12, (sampler, tuple(x), law[tuple(x)])
        assert refimpl.expected_calls(denoiser, sampler, length, vocab_size, prompt=prompt) == calls[0]
