"""Denoisers: the protocol and its validation, tabulated denoisers, the exact oracle."""
from .tables import (LatticeOracle, OracleDenoiser, TableDenoiser, check_output, evaluate, oracle_denoiser,
                     table_bytes, tabulate)

__all__ = ["LatticeOracle", "OracleDenoiser", "TableDenoiser", "check_output", "evaluate", "oracle_denoiser",
           "table_bytes", "tabulate"]
