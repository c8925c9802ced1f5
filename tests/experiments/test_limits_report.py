"""``refimpl limits`` and its report (issue #23): the profile, the fewest steps and every family placed against
the best adaptive policy at its expected calls, against the library's own computations and the engine's
exact laws."""
import io
import json

import numpy as np
import pytest
import refimpl
from refimpl import limits
from refimpl import samplers as S
from refimpl.cli.main import main
from refimpl.experiments.limits_report import limits_report, reachable
from refimpl.laws import datasets


def test_reachable_is_the_line_between_the_integer_optima():
    kls = [0.9, 0.4, 0.1, 0.0]
    assert reachable(kls, 1.0) == 0.9 and reachable(kls, 0.5) == 0.9 and reachable(kls, 3.0) == 0.1
    assert reachable(kls, 2.25) == pytest.approx(0.75 * 0.4 + 0.25 * 0.1, abs=1e-15)
    assert reachable(kls, 4.0) == 0.0 and reachable(kls, 7.5) == 0.0


def test_the_report_places_each_sampler_against_the_adaptive_optimum():
    law = datasets.dirichlet(3, 4, np.random.default_rng(0), 0.5)
    table = np.asarray(law)
    chosen = [S.LLaDA(2, temperature=1.0), S.RandomK([2, 2]), S.Threshold(0.6, temperature=1.0), S.LeftToRight()]
    report = limits_report(table, epsilon=0.01, samplers=chosen)
    profile, fewest, families = report.tables
    rows = limits.parallelism_profile(table)
    for row, shown in zip(rows, profile.rows):
        assert shown[6] == pytest.approx(row["adaptive_kl"], abs=1e-12)
        assert shown[2] == pytest.approx(row["order_averaged_kl"], abs=1e-12)
    kls = limits.adaptive_optima(table).kls
    oracle = refimpl.oracle_denoiser(table)
    assert len(families.rows) == len(chosen)
    for label, calls, kl, best, gap in families.rows:
        sampler = next(s for s in chosen if refimpl.reports.labels.sampler_label(s) == label)
        assert calls == pytest.approx(refimpl.expected_calls(oracle, sampler, 4, 3), abs=1e-12)
        exact = refimpl.kl(table, refimpl.exact_law(oracle, sampler, 4, 3))
        assert kl == pytest.approx(exact if abs(exact) > 1e-12 else 0.0, abs=1e-12)
        assert best == pytest.approx(reachable(kls, calls), abs=1e-12)
        assert gap == pytest.approx(kl - best, abs=1e-12)
    wins = [r["steps"] for r in rows if r["random_order_kl"] < r["adaptive_kl"] - 1e-12]
    assert report.findings["random_order_beats_adaptive_at_steps"] == wins
    assert report.findings["fewest_steps_adaptive_kl"] == limits.fewest_steps(rows, 0.01, "adaptive_kl")
    assert report.findings["dual_total_correlation"] == pytest.approx(refimpl.dual_total_correlation(table))
    assert [r[1] for r in fewest.rows] == [limits.fewest_steps(rows, 0.01, key) for key in
                                           ("order_averaged_kl", "random_order_kl", "fixed_set_kl", "adaptive_kl")]


def test_the_limits_command_prints_the_report_as_json_and_refuses_bad_input(capsys):
    out = io.StringIO()
    assert main(["limits", "--data", "parity", "--vocab-size", "2", "--length", "4", "--quick", "--json"], out=out) == 0
    found = json.loads(out.getvalue())["reports"][0]["findings"]
    parity = np.asarray(datasets.parity(2, 4))
    rows = limits.parallelism_profile(parity)
    assert found["fewest_steps_adaptive_kl"] == limits.fewest_steps(rows, 0.01, "adaptive_kl")
    assert found["total_correlation"] == pytest.approx(refimpl.total_correlation(parity), abs=1e-12)
    with pytest.raises(SystemExit) as refused:  # the parser refuses it, before the work
        main(["limits", "--epsilon", "0"], out=io.StringIO())
    assert refused.value.code == 2
    assert "argument --epsilon: must be a finite number > 0, got '0'" in capsys.readouterr().err
    with pytest.raises(refimpl.RefimplError, match="epsilon must be a finite number > 0"):  # and the library
        limits_report(parity, epsilon=0.0)


def test_the_parallelism_profile_figure_draws_every_optimum_and_its_zeros_at_zero(tmp_path):
    """The figure (matplotlib installed): one series per optimum with the report's values, T on the x axis, a
    symmetric-log y axis whose linear part holds 0 — the exact zeros at T = L are drawn at 0, not a floor."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from refimpl.experiments import figures
    from refimpl.experiments import limits_report as experiment

    law = np.asarray(datasets.markov_chain(np.full(3, 1 / 3), np.full((3, 3), 1 / 6) + np.eye(3) / 2, 5))
    report = limits_report(law, samplers=[S.LeftToRight()])
    shown = []
    original = plt.Figure.savefig

    def keep(figure, *args, **kwargs):
        shown.append(figure)
        return original(figure, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        written = experiment.write_figures(report, str(tmp_path))
    finally:
        plt.Figure.savefig = original
    assert written == [str(tmp_path / "parallelism_profile.png")] and (tmp_path / "parallelism_profile.png").stat().st_size
    ax = shown[0].axes[0]
    assert ax.get_yscale() == "symlog" and ax.get_xlabel().startswith("steps T")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {label for _, label, _ in figures.PROFILE}
    for column, label, _ in figures.PROFILE:
        x, y = lines[label].get_data()
        assert list(x) == [row[0] for row in report.tables[0].rows]
        np.testing.assert_allclose(y, [row[column] for row in report.tables[0].rows], atol=0)
        assert y[-1] == 0.0  # T = L: exact, drawn at 0
    assert ax.get_ylim()[0] <= 0.0
