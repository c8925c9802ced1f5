"""Report tables shared by the experiments, the command line and the benchmarks."""
