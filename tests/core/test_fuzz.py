"""The fuzz suite (tests/fuzz.py) in CI: bounded examples, zero escapes allowed."""
import os

from tests import fuzz


def test_public_api_raises_only_refimpl_errors():
    fuzz.fuzz_api()


def test_cli_exits_with_one_readable_line():
    before = sorted(os.listdir())
    fuzz.fuzz_cli()
    assert sorted(os.listdir()) == before, "the CLI fuzz wrote files into the working directory"
