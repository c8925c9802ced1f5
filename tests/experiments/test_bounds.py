"""``refimpl bounds`` (issue #39, build 5): every row is a published bound next to the exact quantity, both computed
by refimpl's exact functions; every bound holds on random laws; the misprint's witness; the search."""
import io
import json
import math

import numpy as np
import pytest
import refimpl
from hypothesis import given, settings
from refimpl.cli.main import main
from refimpl.experiments import bounds
from refimpl.limits import ugc
from refimpl.testing.strategies import laws


@settings(max_examples=15, deadline=None)
@given(laws(max_vocab=3, max_length=4, min_length=2, zeros=True))
def test_every_bound_holds_and_its_rows_are_the_exact_quantities(table):
    rows = {kind: (exact, bound) for kind, _, exact, bound in bounds.bound_rows(table)}
    for kind, (exact, bound) in rows.items():
        assert exact <= bound + 1e-12, kind
    tc, dtc = refimpl.total_correlation(table), refimpl.dual_total_correlation(table)
    assert rows["W6"] == pytest.approx((ugc.ugc(table, 0, 1), min(tc, dtc)), abs=1e-12)
    assert rows["W8 e/(e-1)"] == pytest.approx((ugc.dhw(table), math.e / (math.e - 1) * ugc.ugc(table, 0, 1)),
                                               abs=1e-12)


def test_the_misprint_row_is_corollary_34_on_the_parity():
    (statement, printed, correct), = bounds.misprint_rows(refimpl.datasets.parity(2, 3).table)
    assert statement.startswith("CCL9") and printed == pytest.approx(2 * math.log(2)) and correct == pytest.approx(
        math.log(2))


def test_the_search_finds_each_bounds_worst_ratio_on_the_first_law_reaching_it():
    found = bounds.search(samples=2, seed=1)
    kinds = {kind for kind, _, _ in found}
    assert {"W6", "W7", "W8 e/(e-1)", "W8 min", "CCL8/LC1", "CCL5", "W13"} <= kinds
    for kind, ratio, (vocab_size, length, concentration, index) in found:
        assert 0 <= ratio <= 1 + 1e-12
        rng = np.random.default_rng(1)  # the search's draws, replayed to the law it names
        for v, n in bounds.SIZES:
            for c in bounds.CONCENTRATIONS:
                for i in range(2):
                    table = rng.dirichlet(np.full(v ** n, c)).reshape((v,) * n)
                    if (v, n, c, i) == (vocab_size, length, concentration, index):
                        mine = [e / b for k, _, e, b in bounds.bound_rows(table) if k == kind and b > 0]
                        assert max(mine) == pytest.approx(ratio, abs=1e-12)


def test_the_command_prints_the_report_and_refuses_a_negative_search(capsys):
    out = io.StringIO()
    assert main(["bounds", "--data", "parity", "--vocab-size", "2", "--length", "3", "--json", "--quiet"], out=out) == 0
    report = json.loads(out.getvalue())["reports"][0]
    assert report["findings"] == {"bounds": len(bounds.bound_rows(refimpl.datasets.parity(2, 3).table)), "violated": 0}
    with pytest.raises(SystemExit) as refused:
        main(["bounds", "--search", "-1"], out=io.StringIO())
    assert refused.value.code == 2


def test_the_tightness_figure_draws_one_bar_per_bound(tmp_path, monkeypatch):
    """``refimpl bounds --figures``: one bar per bound, its length the report's ratio (matplotlib installed)."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = {}
    monkeypatch.setattr(plt, "close", lambda fig: drawn.setdefault("bars", [p.get_width() for p in fig.axes[0].patches]))
    report = bounds.bounds_report(refimpl.datasets.parity(2, 4).table)
    assert bounds.bounds_figure(report, str(tmp_path)) == [str(tmp_path / "bounds.png")]
    expected = [row[3] for row in report.tables[0].rows if row[2] > 0]
    assert drawn["bars"] == pytest.approx(expected, abs=1e-12)
    assert (tmp_path / "bounds.png").read_bytes()[:4] == b"\x89PNG"
