"""The absorbing diffusion: schedules, the forward process, the exact and Monte Carlo NELBO; and the uniform
(mask-free) forward process (:mod:`refimpl.diffusion.uniform`)."""
