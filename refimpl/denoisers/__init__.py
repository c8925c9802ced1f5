"""Denoisers: the protocol and its validation, tabulated denoisers, the exact oracle, and the one way the
engine reads any of them (:func:`refimpl.denoisers.conditionals.reader`).

Examples
--------
>>> import numpy as np, refimpl
>>> p = refimpl.datasets.coupled_pairs()
>>> table = refimpl.denoisers.tabulate(refimpl.oracle_denoiser(p), 4, 2)   # any denoiser, as a table
>>> table(np.array([[0, 4]]))[0, 1]                                         # B after A
array([0., 1., 0., 0.])
"""
from .conditionals import reader
from .evaluation import CHUNK, check_output, each_chunk, evaluate, evaluate_rows
from .oracle import LatticeOracle, OracleDenoiser, oracle_denoiser
from .substitution import substitution_oracle
from .tables import TableDenoiser, table_bytes, tabulate

__all__ = ["CHUNK", "LatticeOracle", "OracleDenoiser", "TableDenoiser", "check_output", "each_chunk", "evaluate",
           "evaluate_rows", "oracle_denoiser", "reader", "substitution_oracle",
           "table_bytes", "tabulate"]
