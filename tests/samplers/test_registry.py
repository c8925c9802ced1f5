"""The registry of sampler families (refimpl.samplers.registry): every family has one name, and every part of
refimpl that lists samplers reads it — the command line, refimpl.testing.sampler, the hypothesis strategies, sweep
specs, the frontier, the case table and the golden vectors.  A family registered without any of these fails here."""
import argparse
import dataclasses
import inspect
import re

import pytest
import refimpl
from hypothesis import given, settings
from hypothesis import strategies as st
from refimpl import samplers
from refimpl.cli import builders
from refimpl.core.errors import InvalidParameterError
from refimpl.experiments import frontier, sweep, sweep_spec
from refimpl.samplers.cases import CASES
from refimpl.samplers.params import LENGTH
from refimpl.testing import families, strategies

NAMES = samplers.NAMES


def parser():
    out = argparse.ArgumentParser()
    builders.add_sampler_arguments(out)
    return out


def test_every_sampler_class_is_registered_once_under_a_snake_case_name():
    classes = {value for value in vars(samplers).values()
               if inspect.isclass(value) and callable(getattr(value, "plan", None))}
    assert {entry.cls for entry in samplers.FAMILIES.values()} == classes
    assert len(NAMES) == len(classes) and all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in NAMES)
    for name, entry in samplers.FAMILIES.items():
        assert entry.name == name and entry.summary
        assert samplers.family(name) is entry and samplers.family(entry.cls.__name__) is entry
        assert all(samplers.family(alias) is entry for alias in entry.aliases)
    with pytest.raises(InvalidParameterError, match="must be one of left_to_right, ancestral"):
        samplers.family("mdlm")


@pytest.mark.parametrize("name", NAMES)
def test_the_command_line_reads_each_family_from_its_fields(name):
    """``--sampler NAME`` with a flag for every parameter (its help from the field, its default shown); with the
    required flags given, the family is built; without them, the error names the flag."""
    entry = samplers.family(name)
    args = parser().parse_args(["--sampler", name])
    assert args.sampler == name
    help_text = parser().format_help()
    for parameter in entry.parameters():
        assert parameter.help and f"--{parameter.flag.replace('_', '-')}" in help_text
    required = [p for p in entry.parameters() if p.default is dataclasses.MISSING]
    if required:
        with pytest.raises(InvalidParameterError, match=f"{name} needs --{required[0].flag.replace('_', '-')}"):
            builders.build_sampler(args, 4)
        return
    built = builders.build_sampler(args, 4)
    assert type(built) is entry.cls
    for parameter in entry.parameters():  # the defaults are the fields' (or the length)
        expected = 4 if parameter.default is LENGTH else parameter.default
        assert getattr(built, parameter.field) == expected


def test_a_flag_for_another_family_is_refused_naming_the_families_that_read_it():
    args = parser().parse_args(["--sampler", "dream", "--gamma", "0.5"])
    with pytest.raises(InvalidParameterError, match="--gamma applies to entropy_bound only, not dream"):
        builders.build_sampler(args, 4)
    with pytest.raises(SystemExit):
        parser().parse_args(["--sampler", "mdlm"])


def test_the_old_spellings_still_work():
    assert parser().parse_args(["--sampler", "fixed"]).sampler == "fixed_order"
    assert sweep_spec.build_sampler({"family": "LLaDA", "steps": 2}) == samplers.LLaDA(2)
    assert parser().parse_args(["--sampler", "remdm", "--remdm", "conf"]).remasking == "conf"


@pytest.mark.parametrize("name", NAMES)
def test_refimpl_testing_and_sweep_specs_build_each_family_by_its_name(name):
    """refimpl.testing.sampler and a sweep spec entry rebuild the family's case rows from their fields (a sampler
    a spec cannot hold — a ranking function, a list of position sets — is refused by sampler_entry, not mis-built)."""
    rows = [case.sampler for case in CASES if type(case.sampler) is samplers.family(name).cls]
    for sampler in rows:
        fields = {f.name: getattr(sampler, f.name) for f in dataclasses.fields(sampler)}
        assert refimpl.testing.sampler(name, **fields) == sampler
        try:
            entry = sweep.sampler_entry(sampler)
        except InvalidParameterError:
            continue
        assert entry["family"] == name and sweep_spec.build_sampler(entry) == sampler


@pytest.mark.parametrize("name", NAMES)
def test_each_family_has_a_strategy_case_rows_and_golden_vectors(name):
    cls = samplers.family(name).cls
    assert families.FAMILIES == NAMES and set(families.BUILDERS) == set(NAMES)
    rows = [case for case in CASES if type(case.sampler) is cls]
    assert len(rows) >= 2, f"{name} needs rows in refimpl/samplers/cases.py"
    assert any(case.vector for case in rows), f"{name} needs a golden vectors row in refimpl/samplers/cases.py"


@settings(max_examples=len(NAMES) * 3)
@given(st.data())
def test_the_strategies_draw_every_family_by_its_name(data):
    name = data.draw(st.sampled_from(NAMES))
    sampler = data.draw(strategies.samplers(4, families=name))
    assert samplers.family_of(sampler).name == name


def test_the_frontier_names_families_from_the_registry():
    assert set(frontier.SETTINGS) <= set(NAMES)
    shown = frontier.default_samplers(4, prompted=True)
    assert [samplers.family_of(s).name for s in shown] == sorted((samplers.family_of(s).name for s in shown),
                                                                 key=NAMES.index)
