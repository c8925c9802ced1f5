"""PC-Sampler (issue #37, rule R11): refimpl's exact law and calls against its loop re-written from its code
(tests/originals.py), the README's reading as an option, ties at the clip."""
import numpy as np
import pytest
import refimpl
import refimpl.testing as rt
from refimpl import samplers as S

from tests import originals

V, L = 3, 4
TABLE = refimpl.datasets.dirichlet(V, L, np.random.default_rng(7), concentration=0.5).table
MODEL = rt.perturbed_oracle(TABLE, mix=0.3, seed=7)
FREQUENCIES = (0.6, 0.3, 0.1)


def loop(**settings):
    names = {"form": "readme", "clip": "alpha"}
    settings = {names.get(k, k): (v == "readme" if k == "form" else v) for k, v in settings.items()}

    def run(denoiser, n, rng, length, vocab_size, prompt):
        calls = np.zeros(n, dtype=np.int64)
        return originals.pc_sampler(denoiser, n, rng, length, vocab_size, prompt, calls=calls, **settings), calls
    return run


@pytest.mark.parametrize("settings, prompt", [
    (dict(steps=4, temperature=1.0), None),
    (dict(steps=2, lam=0.25, clip=10.0, frequencies=FREQUENCIES, temperature=1.0), None),
    (dict(steps=4, block_length=2, lam=0.5, clip=0.3, frequencies=FREQUENCIES, temperature=0.7), None),
    (dict(steps=3, block_length=1, frequencies=FREQUENCIES, temperature=1.0, form="readme"), np.array([2, V, V, V])),
])
def test_the_loop_matches_the_exact_law_and_calls(settings, prompt):
    """Chi-square and the calls check at alpha = 1e-3, seeded; the same loop with another lambda is rejected."""
    sampler = S.PCSampler(**settings)
    rt.assert_sampler_matches(loop(**settings), sampler, MODEL, TABLE, n=4000, seed=3, prompt=prompt,
                              blind_spots="ignore")


def test_a_wrong_lambda_is_rejected():
    settings = dict(steps=2, lam=0.0, clip=10.0, frequencies=FREQUENCIES, temperature=1.0)
    with pytest.raises(AssertionError):
        rt.assert_sampler_matches(loop(**dict(settings, lam=3.0)), S.PCSampler(**settings), MODEL, TABLE, n=4000,
                                  seed=3, blind_spots="ignore")


def test_the_greedy_code_is_a_point_mass_at_the_loops_output():
    for settings in (dict(steps=4), dict(steps=2, frequencies=FREQUENCIES, clip=10.0), dict(steps=4, block_length=2)):
        x = loop(**settings)(MODEL, 1, None, L, V, None)[0][0]
        sampler = S.PCSampler(**settings)
        assert refimpl.exact_law(MODEL, sampler, L, V)[tuple(x)] == pytest.approx(1.0, abs=1e-12)
        assert refimpl.expected_calls(MODEL, sampler, L, V) == settings["steps"]


def test_the_readme_form_differs_from_the_code_and_ties_at_the_clip_are_reported():
    """With blocks the README's offsets and sign change the law; with lambda 0 and a clip every score equals alpha
    (a tie of all candidates, decided by the tie rule)."""
    code = S.PCSampler(4, block_length=2, frequencies=FREQUENCIES, temperature=1.0)
    readme = S.PCSampler(4, block_length=2, frequencies=FREQUENCIES, temperature=1.0, form="readme")
    assert refimpl.tv(refimpl.exact_law(MODEL, code, L, V), refimpl.exact_law(MODEL, readme, L, V)) > 0.01
    clipped = S.PCSampler(2, lam=0.0, clip=1e-3, temperature=1.0)
    assert refimpl.tie_probability(MODEL, clipped, L, V) == pytest.approx(1.0)
    np.testing.assert_allclose(refimpl.exact_law(MODEL, clipped, L, V),
                               refimpl.exact_law(MODEL, S.FixedOrder([[0, 1], [2, 3]], temperature=1.0), L, V),
                               atol=1e-14)


@pytest.mark.parametrize("settings", [dict(steps=0), dict(steps=2, form="paper"), dict(steps=2, frequencies=(1.0, -1.0)),
                                      dict(steps=2, lam="x"), dict(steps=2, block_length=0), dict(steps=2, tie="sideways")])
def test_bad_settings_are_one_clear_error(settings):
    with pytest.raises(refimpl.RefimplError):
        S.PCSampler(**settings)


def test_a_table_of_the_wrong_length_is_refused():
    with pytest.raises(refimpl.RefimplError, match="frequencies"):
        refimpl.exact_law(MODEL, S.PCSampler(2, frequencies=(0.5, 0.5)), L, V)
