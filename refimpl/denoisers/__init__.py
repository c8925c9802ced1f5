"""Denoisers: the protocol and its validation, tabulated denoisers, the exact oracle, and the one way the
engine reads any of them (:func:`refimpl.denoisers.conditionals.reader`)."""
from .conditionals import reader
from .evaluation import CHUNK, check_output, each_chunk, evaluate, evaluate_rows
from .oracle import LatticeOracle, OracleDenoiser, oracle_denoiser
from .tables import TableDenoiser, table_bytes, tabulate

__all__ = ["CHUNK", "LatticeOracle", "OracleDenoiser", "TableDenoiser", "check_output", "each_chunk", "evaluate",
           "evaluate_rows", "oracle_denoiser", "reader", "table_bytes", "tabulate"]
