"""A newcomer's first hour (issue #35): a verdict only for a test that ran, arguments checked before the work, help
for every flag, positions from 0 and tokens as ids, files that respect the umask, status lines off stdout."""
import argparse
import importlib
import io
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
import refimpl
from refimpl.cli.main import main
from refimpl.cli.parser import build_parser
from refimpl.cli.status import Status
from refimpl.interop.verify import verify_denoiser, verify_sampler

cli_main = importlib.import_module("refimpl.cli.main")  # the module (refimpl.cli.main the attribute is the function)
pytestmark = pytest.mark.xdist_group("paper")  # test_paper_json_is_the_same_with_figures reads the session's run

VERIFY = ["verify", "tests.targets:llada_good", "--as", "llada", "--steps", "3", "--temperature", "0.5",
          "--vocab-size", "3", "--length", "3"]
BAD = [  # (argv, the flag, the offending word): each refused by the parser, exit 2, before any work
    (VERIFY + ["--samples", "0"], "--samples", "0"),
    (VERIFY + ["--samples", "-5"], "--samples", "-5"),
    (VERIFY + ["--alpha", "2"], "--alpha", "2"),
    (VERIFY + ["--alpha", "0"], "--alpha", "0"),
    (VERIFY + ["--alpha", "1"], "--alpha", "1"),
    (VERIFY + ["--alpha", "nan"], "--alpha", "nan"),
    (["verify", "tests.targets:good_denoiser", "--tolerance", "-1"], "--tolerance", "-1"),
    (["verify", "tests.targets:good_denoiser", "--tolerance", "inf"], "--tolerance", "inf"),
    (["paper", "--workers", "0"], "--workers", "0"),
    (["frontier", "--workers", "-1"], "--workers", "-1"),
    (["limits", "--epsilon", "-0.1"], "--epsilon", "-0.1"),
    (["law", "--vocab-size", "1"], "--vocab-size", "1"),
    (["law", "--length", "0"], "--length", "0"),
    (["law", "--seed", "-3"], "--seed", "-3"),
    (["law", "--concentration", "0"], "--concentration", "0"),
    (["frontier", "--temperature", "-1"], "--temperature", "-1"),
    (["train", "--steps", "0"], "--steps", "0"),
    (["train", "--batch-size", "x"], "--batch-size", "x"),
    (["train", "--lr", "-0.1"], "--lr", "-0.1"),
    (["sweep", "spec.toml", "--results", "out", "--workers", "0"], "--workers", "0"),
]


@pytest.fixture
def nothing_runs(monkeypatch):
    """Every command's computation raises: a refusal must come before it."""
    def never(*args, **kwargs):
        raise AssertionError("the computation ran although its arguments were refused")

    for target in ("refimpl.experiments.paper.run_paper", "refimpl.experiments.frontier.frontier_report",
                   "refimpl.experiments.limits_report.limits_report", "refimpl.experiments.sampler_law.sampler_report",
                   "refimpl.interop.verify.verify_sampler", "refimpl.interop.verify.verify_denoiser",
                   "refimpl.models.train.train", "refimpl.experiments.sweep.sweep", "refimpl.interop.vectors.write"):
        monkeypatch.setattr(target, never)


@pytest.mark.parametrize("argv, flag, word", BAD)
def test_a_bad_number_is_one_line_and_exit_2_before_any_work(nothing_runs, capsys, argv, flag, word):
    out = io.StringIO()
    with pytest.raises(SystemExit) as refused:
        main(argv, out=out)
    err = capsys.readouterr().err
    assert refused.value.code == 2 and err.strip().count("\n") == 0
    assert f"argument {flag}: must be" in err and f"got {word!r}" in err
    assert out.getvalue() == "" and "AGREES" not in err and "DIFFERS" not in err


def _sample_fn(calls):
    def sample_fn(denoiser, n, rng, length, vocab_size, prompt):
        calls.append(n)
        return np.zeros((n, length), dtype=int)

    return sample_fn


@pytest.mark.parametrize("settings", [{"n": 0}, {"n": -5}, {"n": 2.5}, {"alpha": 2}, {"alpha": 0}, {"alpha": 1.0},
                                      {"alpha": float("nan")}, {"alpha": True}, {"seed": -1}, {"top": 0}])
def test_verify_sampler_refuses_what_it_could_not_test_before_calling_the_target(settings):
    p = refimpl.datasets.coupled_pairs()
    calls = []
    with pytest.raises(refimpl.RefimplError):
        verify_sampler(_sample_fn(calls), refimpl.samplers.LeftToRight(), refimpl.oracle_denoiser(p), p, **settings)
    assert calls == []


@pytest.mark.parametrize("tolerance", [-1e-9, float("inf"), float("nan"), "1e-6"])
def test_verify_denoiser_refuses_a_tolerance_that_is_not_a_finite_number_at_least_0(tolerance):
    p = refimpl.datasets.coupled_pairs()
    with pytest.raises(refimpl.RefimplError, match="tolerance"):
        verify_denoiser(refimpl.oracle_denoiser(p), p, tolerance=tolerance)


def test_a_verdict_is_printed_for_a_test_that_ran():
    """The smallest valid sample (n = 1) is a test that ran: a verdict, the samples counted."""
    out = io.StringIO()
    code = main(VERIFY + ["--samples", "1", "--json"], out=out)
    findings = json.loads(out.getvalue())["reports"][0]["findings"]
    assert code in (0, 1) and findings["samples"] == 1 and findings["passed"] == (code == 0)


def _unwritable(tmp_path):
    """A folder no process can create, even as root: its parent is a file."""
    (tmp_path / "a-file").write_text("x")
    return str(tmp_path / "a-file" / "figures")


@pytest.mark.parametrize("command", [["paper"], ["frontier", "--length", "3"], ["limits", "--length", "3"]])
def test_figures_into_an_unwritable_folder_fail_in_one_line_before_computing(nothing_runs, tmp_path, capsys, command):
    code = main(command + ["--figures", _unwritable(tmp_path)], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and err.strip().count("\n") == 0 and "--figures" in err and "cannot write there" in err


@pytest.mark.parametrize("command", [["paper"], ["frontier", "--length", "3"], ["limits", "--length", "3"]])
def test_figures_without_matplotlib_fail_in_one_line_before_computing(nothing_runs, monkeypatch, tmp_path, capsys,
                                                                       command):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    code = main(command + ["--figures", str(tmp_path)], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and err.strip().count("\n") == 0 and "needs matplotlib" in err
    assert os.listdir(tmp_path) == []


def test_outputs_that_cannot_be_written_are_refused_before_the_work(nothing_runs, tmp_path, capsys):
    unwritable = _unwritable(tmp_path)
    for argv in (["vectors", "--out", unwritable + "/v.json"], ["train", "--out", unwritable + "/m.npz"],
                 ["vectors", "--out", str(tmp_path)], ["frontier", "--results", unwritable]):
        assert main(argv, out=io.StringIO()) == 2
        err = capsys.readouterr().err
        assert err.strip().count("\n") == 0 and argv[-2] in err


def test_paper_json_is_the_same_with_figures(paper_run, monkeypatch, tmp_path):
    pytest.importorskip("matplotlib")
    reports, _ = paper_run
    monkeypatch.setattr("refimpl.experiments.paper.run_paper", lambda **options: reports)
    plain, with_figures = io.StringIO(), io.StringIO()
    assert main(["paper", "--json"], out=plain) == 0
    assert main(["paper", "--json", "--figures", str(tmp_path / "figs")], out=with_figures) == 0
    assert plain.getvalue() == with_figures.getvalue()
    json.loads(plain.getvalue())
    assert sorted(os.listdir(tmp_path / "figs")) == ["coupled_pairs.png", "kl_vs_steps.png",
                                                      "marginal_tv_vs_distance.png"]


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_refimpl_writes_have_mode_0644_under_umask_022(tmp_path):
    from refimpl.core.files import atomic_write_bytes, atomic_write_json
    from refimpl.experiments import figures
    from refimpl.interop import vectors
    from refimpl.models import checkpoint
    from refimpl.testing import fixed_mlp

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "bytes.bin", b"x")
        atomic_write_json(tmp_path / "result.json", {"a": 1})
        checkpoint.save(tmp_path / "model.npz", fixed_mlp(2, 2, hidden=(3,)))
        vectors.write(tmp_path / "vectors.json")
        written = ["bytes.bin", "result.json", "model.npz", "vectors.json"]
        plt = figures.pyplot()
        if plt is not None:  # the figures go through the same atomic write
            figure = plt.figure()
            figures.save(figure, str(tmp_path / "figure.png"))
            plt.close(figure)
            written.append("figure.png")
        assert {name: _mode(tmp_path / name) for name in os.listdir(tmp_path)} == dict.fromkeys(written, 0o644)
        os.chmod(tmp_path / "bytes.bin", 0o640)  # a file that exists keeps its mode
        atomic_write_bytes(tmp_path / "bytes.bin", b"y")
        assert _mode(tmp_path / "bytes.bin") == 0o640
        os.umask(0o077)
        atomic_write_bytes(tmp_path / "private.bin", b"z")
        assert _mode(tmp_path / "private.bin") == 0o600
    finally:
        os.umask(old)


def _commands(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_flag_of_every_command_has_a_description_and_its_default():
    parser = build_parser()
    for name, command in [("refimpl", parser)] + list(_commands(parser).items()):
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            shown = action.help or ""
            assert len(shown) > 12, f"{name} {action.option_strings or action.dest}: no description"
            assert "(default " in shown or "(required)" in shown, \
                f"{name} {action.option_strings or action.dest}: its help names no default: {shown!r}"


def test_every_command_shows_examples_and_groups_its_flags():
    parser = build_parser()
    for name, command in _commands(parser).items():
        text = command.format_help()
        assert "examples:" in text and text.count(f"refimpl {name}") + text.count("refimpl law") >= 2, name
        assert "\noutput:\n" in text, name
    law = _commands(parser)["law"].format_help()
    for group in ("the problem:", "the sampler:", "llada options:", "fixed_order options:", "remdm options:"):
        assert group in law


def test_positions_are_counted_from_0_and_tokens_print_as_ids_or_letters():
    out = io.StringIO()
    argv = ["law", "--data", "coupled", "--sampler", "fixed_order", "--sets", "0,1", "--json"]
    assert main(argv, out=out) == 0
    tables = json.loads(out.getvalue())["reports"][0]["tables"]
    assert tables[0]["rows"][0][1] == "0 1"  # the step's positions, as typed
    sequences = {row[0] for row in tables[1]["rows"]}
    assert sequences <= {f"{a} {b}" for a in range(4) for b in range(4)} and "0 3" in sequences  # AD, incoherent
    out = io.StringIO()
    assert main(argv + ["--letters"], out=out) == 0
    assert "AD" in {row[0] for row in json.loads(out.getvalue())["reports"][0]["tables"][1]["rows"]}


def test_a_position_outside_the_sequence_is_named(capsys):
    assert main(["law", "--sampler", "fixed_order", "--sets", "0,9"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert "position 9 outside the sequence (positions 0 to 3" in err and "-1" not in err


def test_tiny_negative_kls_print_as_0_and_json_keeps_them():
    from refimpl.reports.tables import Report, Table

    report = Report("r", "t", (Table("KLs", ("sampler", "KL(p || q)", "q - p"), (("a", -1.97e-16, -1e-16),)),
                               Table("by name", ("x", "oracle"), (("b", -3e-16),), nonnegative=(1,))),
                    {"kl_p_q": -2e-16, "tv": 3e-17, "entropy_gap": -2e-16, "kl_big": -1e-3})
    text = report.to_text()
    assert "1.97e-16" not in text and "3e-16" not in text and "3e-17" not in text
    assert "-1e-16" in text and "-2e-16" in text and "-0.001" in text  # not known >= 0, or not rounding
    assert report.to_json()["findings"]["kl_p_q"] == -2e-16
    assert report.to_json()["tables"][0]["rows"][0][1] == -1.97e-16


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_status_lines_go_to_stderr_by_the_convention_and_never_to_stdout(monkeypatch, capsys):
    monkeypatch.setattr(Status, "DELAY", 0.0)
    plain = io.StringIO()
    status = Status.for_arguments("law", argparse.Namespace(), plain)
    status("stage one")
    status("a step", detail=True)  # within PLAIN_DETAIL_EVERY of the last line: held back
    status("stage two")
    status.close()
    lines = plain.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("[refimpl law") and lines[1].endswith("stage two")
    terminal = _Terminal()
    status = Status.for_arguments("law", argparse.Namespace(), terminal)
    status("stage one")
    status.close()
    assert terminal.getvalue().startswith("\r[refimpl law") and terminal.getvalue().endswith("\n")
    quiet = io.StringIO()
    Status.for_arguments("law", argparse.Namespace(quiet=True), quiet)("stage")
    assert quiet.getvalue() == ""
    out = io.StringIO()
    assert main(["law", "--data", "coupled", "--sampler", "llada", "--steps", "1", "--json", "--progress"], out=out) == 0
    json.loads(out.getvalue())
    assert "[refimpl law" in capsys.readouterr().err


def test_an_error_in_the_first_second_stays_one_line(capsys):
    """Nothing is shown before Status.DELAY, so an error found while setting up is the only line."""
    assert main(["law", "--sampler", "fixed_order", "--sets", "0;1", "--progress"], out=io.StringIO()) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_the_console_script_lets_blas_threads_sleep_unless_the_user_chose():
    code = ("import os, sys; from refimpl.cli.main import quiet_blas_threads; assert 'numpy' not in sys.modules; "
            "quiet_blas_threads(); "
            "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))")
    environment = {k: v for k, v in os.environ.items() if k not in cli_main.BLAS_TIMEOUT_VARIABLES}
    shown = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "4"
    environment["OPENBLAS_THREAD_TIMEOUT"] = "9"
    shown = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "9"
    assert cli_main.quiet_blas_threads({}) is False  # numpy is imported here: too late, and said so


def test_a_file_that_is_not_what_its_name_says_is_called_what_it_is(tmp_path, capsys):
    (tmp_path / "sequences.npy").write_text("A B\nB A\n")
    np.save(tmp_path / "objects.npy", np.array([None, 1.0], dtype=object))
    (tmp_path / "model.npz").write_text("not an archive")
    for argv, needle in ((["--data", str(tmp_path / "sequences.npy")], "is not a .npy file"),
                         (["--data", str(tmp_path / "objects.npy")], "holds Python objects"),
                         (["--denoiser", str(tmp_path / "model.npz")], "not a .npz archive"),
                         (["--denoiser", str(tmp_path / "sequences.npy")], "not a .npz archive")):
        assert main(["law"] + argv, out=io.StringIO()) == 2
        err = capsys.readouterr().err
        assert needle in err and "allow_pickle" not in err and err.strip().count("\n") == 0


def test_an_exact_sampler_lists_no_changed_outputs_instead_of_rows_of_rounding():
    """LeftToRight with the oracle is exact (one token per step, in a fixed order): no rows of +-1e-17 differences."""
    out = io.StringIO()
    assert main(["law", "--data", "markov", "--length", "4", "--sampler", "left_to_right", "--json"], out=out) == 0
    report = json.loads(out.getvalue())["reports"][0]
    assert report["findings"]["kl_p_q"] < 1e-12
    assert report["tables"][-1]["rows"] == [] and "q = p up to rounding" in report["tables"][-1]["title"]
    out = io.StringIO()
    assert main(["law", "--data", "markov", "--length", "4", "--sampler", "llada", "--json"], out=out) == 0
    rows = json.loads(out.getvalue())["reports"][0]["tables"][-1]["rows"]
    assert len(rows) == 8 and all(abs(row[3]) > 1e-12 for row in rows)
