"""docs/DESIGN.md keeps up with the code: its glossary names every shape letter the code's comments use, and its
table of differences from the originals has the five columns the issue asks for, each row pointing at tests
that exist."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
DESIGN = (ROOT / "docs" / "DESIGN.md").read_text()


def glossary_letters():
    table = DESIGN[DESIGN.index("| letter | meaning |"):]
    table = table[:table.index("\n\n")]
    return {letter.strip() for row in table.splitlines()[2:] for letter in row.split("|")[1].split(",")}


def test_every_shape_letter_in_the_codes_comments_is_in_the_glossary():
    used = set()
    for path in (ROOT / "refimpl").rglob("*.py"):
        for line in path.read_text().splitlines():
            if "#" not in line:
                continue
            comment = line[line.index("#"):]
            for shape in re.findall(r"\(([^()]*)\)", comment):
                parts = [part.strip() for part in shape.split(",")]
                if len(parts) >= 2 and all(re.fullmatch(r"[A-Za-z0-9_+*^ ]+", part) for part in parts):
                    used |= {p for p in parts if re.fullmatch(r"[A-Z]", p)}
    assert {"B", "L", "V", "N", "P"} <= used  # the scan finds the common ones
    assert used <= glossary_letters(), sorted(used - glossary_letters())
    assert {"e", "k", "G", "R", "T"} <= glossary_letters()


def test_the_differences_are_a_table_whose_rows_name_existing_tests():
    section = DESIGN[DESIGN.index("## Where refimpl differs from the originals"):DESIGN.index("## Conventions")]
    header = "| original | refimpl default | alternative | measured difference | shown by |"
    assert header in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and line != header
            and not line.startswith("|---")]
    assert len(rows) >= 9
    for row in rows:
        cells = row.strip("|").split(" | ")
        assert len(cells) == 5, row[:80]
        named = re.findall(r"tests/[\w/]+\.py|test_\w+\.py", cells[4])
        assert named, row[:80]
        for test in named:
            assert (ROOT / test).exists() or list((ROOT / "tests").rglob(test)), test
