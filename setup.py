"""The metadata is in pyproject.toml (PEP 621); this file stays for tools that still call setup.py."""
from setuptools import setup

setup()
