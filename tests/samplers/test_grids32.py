"""MDLM's and ReMDM's float32 (and ReMDM-conf's bfloat16) coefficients, bit for bit (issue #22, grids):
refimpl's reveal and remask probabilities against the code's own expressions run on torch tensors (when
torch is installed), the bfloat16 rounding against torch and a second rounding by scaled mantissas, and the
exact laws against the re-written loops of tests/originals.py on the same grids (chi-square)."""
import dataclasses
import functools

import numpy as np
import pytest
from refimpl import samplers as S
from refimpl.core.errors import InvalidParameterError
from refimpl.core.float32 import bfloat16, categorical_share, mdlm_times32
from refimpl.diffusion.schedules import Cosine, Linear

from tests import originals
from tests.helpers import assert_loop_agrees, sampler_law_and_denoisers, with_calls

TABLE, DENOISERS = sampler_law_and_denoisers()

EPS = (0.0, 1e-5, 1e-3, 0.05, 1 / 3)
REMDM = [S.ReMDM(steps, remasking, eta=eta, eps=eps, noise_removal=eps > 0)
         for steps in (3, 5, 8, 13, 20) for remasking, eta in (("cap", 0.02), ("cap", 0.3), ("rescale", 0.5), ("conf", 0.0))
         for eps in (0.0, 1e-3)]
REMDM.append(S.ReMDM(1000, "conf", eps=1e-5, noise_removal=True))  # (test_conf_reveals_by_bfloat16_coefficients)
LOOPS = [S.ReMDM(steps, "loop", eta=0.05, t_on=t_on, t_off=t_off, noise_removal=True)
         for steps in (7, 10, 20, 40) for t_on, t_off in ((0.55, 0.05), (0.5, 0.2), (0.6, 0.1))]


def test_bfloat16_rounds_to_nearest_even_as_torch():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.standard_normal(20000) * 10.0 ** rng.integers(-40, 38, 20000),
                             [0.0, -0.0, np.inf, -np.inf, 1e-45, 3.4e38, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -9]])
    values = values.astype(np.float32)
    ours = bfloat16(values)
    np.testing.assert_array_equal(ours, [originals.round_to_bfloat16(v) for v in values])
    assert ours[-3] == 1.0 and ours[-2] == 1 + 2 ** -6 and ours[-1] == 1.0  # the ties go to even
    assert np.isnan(bfloat16(np.float32(np.nan)))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(ours, torch.from_numpy(values).to(torch.bfloat16).float().numpy())


def test_the_times_are_torchs():
    torch = pytest.importorskip("torch")
    for eps in EPS:
        for steps in range(1, 41):
            t, s = mdlm_times32(steps, eps)
            grid = torch.linspace(1, eps, steps + 1)
            dt = (1 - eps) / steps
            np.testing.assert_array_equal(t, grid[:-1].numpy())
            np.testing.assert_array_equal(s, (grid[:-1] - dt).numpy())


def test_a_group_never_drawn_when_its_weight_is_not_positive():
    assert categorical_share(0.25, 0.75) == 0.25
    assert categorical_share(0.5, -1e-8) == 1.0 and categorical_share(0.0, 0.5) == 0.0
    with pytest.raises(InvalidParameterError, match="no positive weight"):
        categorical_share(0.0, -1.0)


def _code_coefficients(torch, sampler, t, dt):
    """(reveal, stay, remask, keep) weights of ReMDM's ``_ddpm_caching_update`` at one step, as its tensors hold
    them (kuleshov-group/remdm ``diffusion.py``, re-written on a one-token model whose p_x0 is 1)."""
    p_x0 = torch.ones(1, 1, 1)
    move_t, move_s = t[:, None, None], (t - dt)[:, None, None]
    if sampler.remasking == "loop":
        on, t_on, t_off, eta = sampler.alpha_on, sampler.t_on, sampler.t_off, sampler.eta
        time = t[0].item()
        if time > t_on or time <= t_off:
            if time > t_on:
                move_t = (1 - (1 - t) * on / (1 - t_on))[:, None, None]
                move_s = (1 - (1 - t + dt) * on / (1 - t_on))[:, None, None]
            else:
                move_t = (t * (1 - on) / t_off)[:, None, None]
                move_s = ((t - dt) * (1 - on) / t_off)[:, None, None]
            return (p_x0 * (move_t - move_s)).item(), move_s[0, 0, 0].item(), 0.0, 1.0
        sigma = eta
        reveal = p_x0 * ((on - (1 - sigma) * on) / (1 - on))
        return reveal.item(), torch.tensor((1 - on - on * sigma) / (1 - on)).float().item(), \
            torch.tensor(sigma).float().item(), (p_x0 * (1 - sigma)).item()
    alpha_t, alpha_s = (1 - move_t)[0].item(), (1 - move_s)[0].item()
    if sampler.remasking == "conf":  # at a masked position: eta = 0 there, in a bfloat16 tensor
        sigma = torch.zeros(1, 1, dtype=torch.bfloat16)
        reveal = p_x0 * ((alpha_s - (1 - sigma[:, :, None]) * alpha_t) / (1 - alpha_t))
        stay = (1 - alpha_s - sigma * alpha_t) / (1 - alpha_t)
        return reveal.item(), stay.float().item(), None, None
    if sampler.remasking == "cap":
        sigma = min(sampler.eta, (1 - alpha_s) / alpha_t) if alpha_t > 0 else sampler.eta
    else:
        sigma = sampler.eta * (min(1, (1 - alpha_s) / alpha_t) if alpha_t > 0 else 1)
    reveal = p_x0 * ((alpha_s - (1 - sigma) * alpha_t) / (1 - alpha_t))
    stay = torch.zeros(1).float() + (1 - alpha_s - sigma * alpha_t) / (1 - alpha_t)  # stored in a float32 tensor
    return reveal.item(), stay.item(), torch.tensor(sigma).float().item(), (p_x0 * (1 - sigma)).item()


@pytest.mark.parametrize("sampler", REMDM + LOOPS, ids=repr)
def test_remdm_probabilities_are_the_codes(sampler):
    torch = pytest.importorskip("torch")
    grid = torch.linspace(1, sampler.eps, sampler.steps + 1)
    dt = (1 - sampler.eps) / sampler.steps
    for i, (unmask, remask) in enumerate(sampler.rates()):
        reveal, stay, again, keep = _code_coefficients(torch, sampler, grid[i] * torch.ones(1, 1).squeeze(-1), dt)
        assert unmask == categorical_share(reveal, stay), (i, reveal, stay)
        if sampler.remasking == "conf":
            continue
        assert remask == (0.0 if again == 0 else categorical_share(again, keep)), (i, again, keep)


@pytest.mark.parametrize("schedule", [Linear(), Cosine()], ids=repr)
@pytest.mark.parametrize("steps, eps", [(s, e) for s in (1, 2, 5, 9, 16) for e in EPS])
def test_mdlm_probabilities_are_the_codes(steps, eps, schedule):
    """The cached update's q_xs = p_x0 (t - s) with s on the mask, at the code's float32 times; on another
    schedule than the log-linear noise, its move chances at those times rounded to float32."""
    torch = pytest.importorskip("torch")
    sampler = S.Ancestral(schedule, steps, eps=eps, noise_removal=eps > 0)
    t = torch.linspace(1, eps, steps + 1)[:-1]
    s = t - (1 - eps) / steps
    if not isinstance(schedule, Linear):
        chance = lambda u: torch.tensor(float(schedule.mask_prob(max(u.item(), 0.0)))).float()  # noqa: E731
        t, s = torch.stack([chance(u) for u in t]), torch.stack([chance(u) for u in s])
    expected = [categorical_share((t[i] - s[i]).item(), s[i].item()) for i in range(steps)]
    assert sampler.unmask_probs() == expected
    ideal = dataclasses.replace(sampler, grid="float64").unmask_probs()
    np.testing.assert_allclose(expected, ideal, rtol=0, atol=2.0 ** -23)  # float32 rounding, no more


def test_float32_times_move_the_loops_phases():
    """ReMDM-loop with 20 steps and t_on = 0.55: the code's grid point 0.55 is 0.550000012 in float32, above
    t_on, so that step runs the first ramp extended by a whole step, to alpha = 1, and reveals every mask;
    on the ideal grid it is a loop step revealing 0.18."""
    code = S.ReMDM(20, "loop", eta=0.02, t_off=0.06)
    ideal = dataclasses.replace(code, grid="float64")
    assert code.rates()[9] == (1.0, 0.0)
    assert ideal.rates()[9] == pytest.approx((0.18, 0.02), rel=1e-12)
    with pytest.raises(InvalidParameterError, match=r"t = 0.05000000075 in float32\) lies after t_off = 0.05"):
        S.ReMDM(20, "loop", eta=0.02)  # the last step's t is above t_off in float32: it would leave masks
    S.ReMDM(20, "loop", eta=0.02, grid="float64")


def test_conf_reveals_by_bfloat16_coefficients():
    """ReMDM-conf's coefficients at the masks are bfloat16 (its sigma tensor's dtype): alpha_s - alpha_t is the
    difference of two bfloat16 roundings, so where the step is finer than bfloat16's spacing its unmasking
    probability is 0 (both round alike) or several times the schedule's; on 1000 steps (ReMDM's usual) the
    steps that reveal nothing are those where the two roundings agree (tests/originals.py's rounding)."""
    for steps in range(5, 13):
        code = S.ReMDM(steps, "conf")
        rates, ideal = np.array(code.rates()), np.array(dataclasses.replace(code, grid="float64").rates())
        assert np.max(np.abs(rates[:, 0] / ideal[:, 0] - 1)) > 2.0 ** -9
        np.testing.assert_allclose(rates[:, 1], ideal[:, 1], rtol=2.0 ** -20)  # sigma_max: from the float32 alphas
    code = S.ReMDM(1000, "conf", eps=1e-5, noise_removal=True)  # the code's eps
    t, s = mdlm_times32(1000, 1e-5)
    alpha_t, alpha_s = 1 - t.astype(np.float64), 1 - s.astype(np.float64)  # exact: float32 1 - t for t >= 2^-24
    alike = [originals.round_to_bfloat16(a) == originals.round_to_bfloat16(b) for a, b in zip(alpha_t, alpha_s)]
    nothing = [unmask == 0.0 for unmask, _ in code.rates()]
    assert nothing == alike and sum(nothing) > 300
    assert all(unmask > 0 for unmask, _ in dataclasses.replace(code, grid="float64").rates())
    with pytest.raises(InvalidParameterError, match="both coefficients of a masked position round to 0 in bfloat16"):
        S.ReMDM(1000, "conf")  # eps = 0: the last step's alpha_s is 1 and alpha_t rounds to 1 as well


@pytest.mark.parametrize("sampler, loop", [
    (S.ReMDM(20, "loop", eta=0.02, t_off=0.06), functools.partial(originals.remdm, steps=20, sampler="remdm-loop",
                                                                  eta=0.02, t_off=0.06)),
    (S.Ancestral(steps=3, eps=0.3, noise_removal=True), functools.partial(originals.mdlm, steps=3, eps=0.3,
                                                                          noise_removal=True)),
], ids=["remdm-loop", "mdlm"])
def test_the_float32_law_is_the_re_written_loops(sampler, loop):
    """The loop on the code's grid against the exact law and calls (chi-square at 1e-3; tests.helpers)."""
    for which in DENOISERS:
        assert_loop_agrees(with_calls(loop), sampler, DENOISERS[which], TABLE, 7)


def test_bad_grid_is_refused():
    for build in (lambda: S.Ancestral(grid="float16"), lambda: S.ReMDM(grid="bfloat16")):
        with pytest.raises(InvalidParameterError, match="grid must be one of"):
            build()
