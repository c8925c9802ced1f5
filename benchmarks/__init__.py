"""refimpl's benchmarks: each module has ``run(quick=False) -> dict`` and can be run with ``python -m``."""
