"""The absorbing diffusion: schedules, the forward process, the exact and Monte Carlo NELBO; and the uniform
(mask-free) forward process (:mod:`refimpl.diffusion.uniform`) and its oracles
(:mod:`refimpl.diffusion.uniform_oracles`)."""
