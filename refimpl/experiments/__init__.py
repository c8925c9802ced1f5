"""The paper's experiments, each a function returning a :class:`refimpl.reports.tables.Report`."""
from .coupled import coupled_pair_demo

__all__ = ["coupled_pair_demo"]
