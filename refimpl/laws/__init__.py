"""Data laws as tables: the state space, marginals and conditionals, information quantities, datasets, metrics."""
