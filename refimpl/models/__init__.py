"""Trained models: the NumPy MLP denoiser, its optimisers, NELBO training, checkpoints."""
