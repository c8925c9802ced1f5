"""The figures (issue #24; matplotlib installed): each one rendered from its report, its axes and series checked
against the report's table — labels, counts, values — and exact zeros drawn at 0 on a symmetric-log axis."""
import io

import numpy as np
import pytest
import refimpl
from refimpl.experiments import coupled, figures, prescriptions
from refimpl.experiments.frontier import default_samplers, frontier_report, shown
from refimpl.laws import datasets


@pytest.fixture
def drawn(monkeypatch):
    """The figures saved during the test, in order."""
    pytest.importorskip("matplotlib")
    kept = []
    original = figures.save

    def keep(fig, path):
        kept.append(fig)
        return original(fig, path)

    monkeypatch.setattr(figures, "save", keep)
    return kept


def series(ax):
    return {line.get_label(): line.get_data() for line in ax.get_lines()}


def assert_zero_at_zero(ax, ys):
    assert ax.get_yscale() == "symlog" and ax.get_ylim()[0] <= 0.0
    assert min(ys) == 0.0  # drawn at 0 itself, not a floor


def test_the_frontier_figure(drawn, tmp_path):
    law = datasets.dirichlet(3, 4, np.random.default_rng(0), 0.5)
    report = frontier_report(law.table, refimpl.oracle_denoiser(law), default_samplers(4, quick=True))
    assert figures.frontier_figure(report, str(tmp_path)) == [str(tmp_path / "frontier.png")]
    ax = drawn[0].axes[0]
    lines = series(ax)
    every = report.tables[0].rows
    rows = [r for r in every if r[3] != float("inf")]  # the greedy rules' point masses: infinite KL, left out
    assert len(rows) < len(every) and f"{len(every) - len(rows)} settings with infinite KL left out" in ax.get_title()
    families = {figures.family(r[0]) for r in rows}
    assert set(lines) == families | {"undominated"}
    for name in families:
        mine = [r for r in rows if figures.family(r[0]) == name]
        x, y = lines[name]
        assert sorted(zip(x, y)) == sorted((r[1], r[3]) for r in mine)
    x, y = lines["undominated"]
    assert list(zip(x, y)) == sorted((r[1], r[3]) for r in rows if r[6] == "*")
    assert_zero_at_zero(ax, [y for _, ys in lines.values() for y in ys])
    assert ax.get_xlabel() == "expected model calls E[NFE]" and ax.get_ylabel() == "KL(p || q) (nats)"


def test_the_kl_against_steps_figure(drawn, tmp_path):
    report = prescriptions.prescriptions_experiment()
    figures.steps_figure(report, str(tmp_path))
    table = report.tables[0]
    axes = drawn[0].axes
    assert [ax.get_title() for ax in axes] == list(table.headers[3:])
    blocks = sorted({r[0] for r in table.rows})
    for c, ax in enumerate(axes):
        lines = series(ax)
        assert set(lines) == {f"block {r[0]}, {r[1]}/step" for r in table.rows}
        assert sum(len(x) for x, _ in lines.values()) == len(table.rows)
        for r in table.rows:
            x, y = lines[f"block {r[0]}, {r[1]}/step"]
            shift = figures.JITTER * (blocks.index(r[0]) - (len(blocks) - 1) / 2)
            assert any(abs(a - (r[2] + shift)) < 1e-12 and b == shown(r[3 + c]) for a, b in zip(x, y))
        assert_zero_at_zero(ax, [y for _, ys in lines.values() for y in ys])


def test_the_coupled_pairs_figure(drawn, tmp_path):
    report = coupled.coupled_pair_demo()
    figures.coupled_figure(report, str(tmp_path))
    ax = drawn[0].axes[0]
    rows = report.tables[1].rows
    joint, product = ax.containers
    assert [bar.get_height() for bar in joint] == [r[1] for r in rows]
    assert [bar.get_height() for bar in product] == [r[2] for r in rows]
    assert [t.get_text() for t in ax.get_xticklabels()] == [r[0] for r in rows]
    assert [joint.get_label(), product.get_label()] == ["joint p", "product of marginals"]


def test_frontier_figures_from_the_command_line(tmp_path, capsys, monkeypatch):
    from refimpl.cli.main import main

    pytest.importorskip("matplotlib")
    assert main(["frontier", "--length", "3", "--figures", str(tmp_path)], out=io.StringIO()) == 0
    assert (tmp_path / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    monkeypatch.setattr(figures, "pyplot", lambda: None)
    monkeypatch.setattr("refimpl.experiments.frontier.frontier_report", _never_called)
    assert main(["frontier", "--length", "3", "--figures", str(tmp_path)], out=io.StringIO()) == 2  # before the work
    err = capsys.readouterr().err
    assert "--figures needs matplotlib" in err and err.strip().count("\n") == 0


def _never_called(*args, **kwargs):
    raise AssertionError("the computation ran although its arguments were refused")


def test_the_findings_show_the_committed_figures():
    """Every figure docs/findings.md shows is a committed PNG."""
    import os
    import re

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    findings = open(os.path.join(root, "docs", "findings.md"), encoding="utf-8").read()
    shown = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", findings)
    assert {os.path.basename(p) for p in shown} == set(os.listdir(os.path.join(root, "docs", "figures"))) >= {
        "frontier.png", "kl_vs_steps.png", "coupled_pairs.png", "parallelism_profile.png", "marginal_tv_vs_distance.png"}
    for path in shown:
        assert open(os.path.join(root, "docs", path), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
