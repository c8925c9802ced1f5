"""The README's worked torch example runs and catches both planted bugs (skipped without torch)."""
import importlib.util
import pathlib

import pytest

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "torch_mdlm.py"


def test_worked_torch_example_catches_a_wrong_loss_weight_and_tempered_confidence(capsys):
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("torch_mdlm", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main()
    assert results["loss correct"] < 1e-10
    assert results["loss wrong weight"] > 0.1
    assert results["sampler untempered"]["passed"]
    assert not results["sampler tempered"]["passed"] and results["sampler tempered"]["p_value"] < 1e-10
    printed = capsys.readouterr().out
    assert printed.count("AGREES") == 2 and printed.count("DIFFERS") == 2
