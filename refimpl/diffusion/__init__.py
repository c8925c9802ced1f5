"""The absorbing diffusion: schedules, the forward process, the exact and Monte Carlo NELBO."""
