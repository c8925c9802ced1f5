import io
import json
import subprocess
import sys

import numpy as np
import pytest

import refimpl
from refimpl.cli import main


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_help_lists_the_commands():
    result = subprocess.run([sys.executable, "-m", "refimpl", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "paper" in result.stdout


def test_paper_prints_the_coupled_pair_tables():
    code, text = run(["paper"])
    assert code == 0
    assert "AD" in text and "CB" in text and "NO (incoherent)" in text and "total_correlation" in text


def test_paper_json_values_match_an_independent_computation():
    code, text = run(["paper", "--json"])
    assert code == 0
    report = json.loads(text)["reports"][0]
    findings = report["findings"]
    # Independently: the joint is 1/2 on AB and CD; each marginal is uniform over two letters, so the
    # product is 1/4 on AB, AD, CB, CD.  KL = sum_x p log(p/q) = 2 * 1/2 * log 2; incoherent mass 1/2.
    assert findings["kl_joint_to_product"] == pytest.approx(np.log(2), abs=1e-15)
    assert findings["total_correlation"] == pytest.approx(np.log(2), abs=1e-15)
    assert findings["incoherent_mass"] == pytest.approx(0.5, abs=1e-15)
    assert findings["tv_joint_product"] == pytest.approx(0.5, abs=1e-15)
    joint_rows = {row[0]: row[1:] for row in report["tables"][1]["rows"]}
    assert joint_rows["AB"][:2] == [0.5, 0.25] and joint_rows["AD"][:2] == [0.0, 0.25]


def test_cli_reports_errors_in_one_line(capsys, monkeypatch):
    def broken(args, out):
        raise refimpl.InvalidParameterError("something specific was wrong")

    monkeypatch.setattr("refimpl.experiments.coupled_pair_demo", lambda: broken(None, None))
    code = main(["paper"], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and err.strip().count("\n") == 0 and "something specific was wrong" in err
