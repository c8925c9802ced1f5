"""Foundations: errors, input validation, memory limits, numerics, atomic files."""
