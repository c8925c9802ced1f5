import numpy as np
import pytest
import refimpl
from refimpl.diffusion import schedules as S

UNCLIPPED = [S.Linear(), S.Cosine(), S.Polynomial(0.5), S.Polynomial(2.0), S.Polynomial(3.0), S.LogLinear(0.0)]
ALL = UNCLIPPED + [S.LogLinear(1e-3), S.Geometric(), S.Geometric(1e-3, 10.0)]
T = np.linspace(0.01, 0.99, 99)


@pytest.mark.parametrize("schedule", ALL, ids=repr)
def test_schedule_identities(schedule):
    S.check_schedule(schedule)
    h = 1e-6
    numeric = (schedule.alpha(T + h) - schedule.alpha(T - h)) / (2 * h)
    np.testing.assert_allclose(schedule.dalpha(T), numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(schedule.mask_prob(T), 1 - schedule.alpha(T), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(schedule.weight(T), -schedule.dalpha(T) / (1 - schedule.alpha(T)), rtol=1e-10)
    np.testing.assert_allclose(np.exp(-schedule.sigma(T)), schedule.alpha(T), rtol=1e-12)
    assert np.all(np.diff(schedule.alpha(np.linspace(0, 1, 1001))) < 0)


@pytest.mark.parametrize("schedule", UNCLIPPED, ids=repr)
def test_unclipped_schedules_span_clean_to_masked(schedule):
    assert schedule.alpha_range() == (1.0, 0.0)
    assert schedule.weight(0.0) == np.inf


def test_sigma_space_translations():
    t = T
    eps = 1e-3
    np.testing.assert_allclose(S.LogLinear(eps).sigma(t), -np.log1p(-(1 - eps) * t), rtol=1e-12)  # MDLM
    np.testing.assert_allclose(S.Geometric(1e-4, 20.0).sigma(t), 1e-4 ** (1 - t) * 20.0**t, rtol=1e-12)  # SEDD
    np.testing.assert_allclose(S.Cosine().alpha(t), 1 - np.cos(np.pi / 2 * (1 - t)), atol=1e-15)  # MD4
    # MDLM's loss weight dsigma / expm1(sigma) is our weight
    sch = S.LogLinear(eps)
    dsigma = (1 - eps) / (1 - (1 - eps) * t)
    np.testing.assert_allclose(sch.weight(t), dsigma / np.expm1(sch.sigma(t)), rtol=1e-10)


def test_bad_schedules_are_refused():
    with pytest.raises(refimpl.InvalidParameterError, match="alpha\\(0\\) = 0.5"):
        S.check_schedule(S.FromFunctions(lambda t: 0.5 - 0.5 * t, lambda t: np.full_like(t, -0.5)))
    bump = S.FromFunctions(lambda t: 1 - 0.5 * np.sin(np.pi * t), lambda t: -0.5 * np.pi * np.cos(np.pi * t))
    with pytest.raises(refimpl.InvalidParameterError, match="increases at t"):
        S.check_schedule(bump)
    with pytest.raises(refimpl.InvalidParameterError, match="derivative"):
        S.check_schedule(S.FromFunctions(lambda t: 1 - t, lambda t: np.full_like(t, -2.0)))
    with pytest.raises(refimpl.InvalidTypeError, match="FromFunctions"):
        S.check_schedule(lambda t: 1 - t)
    for bad in (1.5, -0.1, np.nan, [0.2, 2.0]):
        with pytest.raises(refimpl.InvalidParameterError, match="t must lie in"):
            S.Linear().alpha(bad)
    for make in (lambda: S.Polynomial(0.0), lambda: S.LogLinear(1.0), lambda: S.Geometric(1.0, 0.5)):
        with pytest.raises(refimpl.InvalidParameterError):
            make()
