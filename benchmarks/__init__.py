"""refimpl's benchmarks: each module has ``run(quick=False) -> dict`` and can be run with ``python -m``.

Run as a program (``python -m benchmarks[.NAME]``), they let OpenBLAS's idle threads sleep as the ``refimpl``
console script does (:func:`refimpl.cli.main.quiet_blas_threads`, docs/PERFORMANCE.md "BLAS threads on a shared
machine"), before any benchmark imports numpy; a user's own setting is kept.
"""
from refimpl.cli.main import quiet_blas_threads

quiet_blas_threads()
