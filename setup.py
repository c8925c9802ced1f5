from setuptools import find_packages, setup

setup(
    name="refimpl",
    version="0.1.0",
    description="Exact, pure-NumPy reference implementation of absorbing (masked) discrete diffusion",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["refimpl", "refimpl.*"]),
    python_requires=">=3.10",
    install_requires=["numpy>=1.24", "scipy>=1.10", "tabulate>=0.9"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6"],
        "torch": ["torch>=2.0"],
        "plot": ["matplotlib>=3.6"],
    },
    entry_points={"console_scripts": ["refimpl=refimpl.cli:entry_point"]},
)
