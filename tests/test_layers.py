"""The house's promises, checked on the source: imports point down the layers (docs/DESIGN.md, package
map), no import circle, modules of about 300 lines, and an engine that never asks what class a step or
a denoiser is."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "refimpl"
LAYERS = ["core", "laws", "denoisers", "diffusion", "engine", "samplers", "models", "reports", "experiments",
          "interop", "cli"]
MAX_LINES = 300


def modules():
    return sorted(p for p in ROOT.rglob("*.py"))


def module_name(path):
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path):
    """Every refimpl module imported anywhere in the file (function-level imports too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("refimpl"):
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    out.add(full if (ROOT.parent / (full.replace(".", "/") + ".py")).exists()
                            or (ROOT.parent / full.replace(".", "/")).is_dir() else target)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("refimpl")}
    return out


def layer(module):
    if module == "refimpl._version":
        return 0  # the version string, below everything
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_subpackage_is_a_layer():
    found = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert found == set(LAYERS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_imports_point_down_the_layers(path):
    here = layer(module_name(path))
    if here is None:
        return  # refimpl/__init__.py and __main__.py sit above every layer
    for target in imports(path):
        there = layer(target)
        assert there is not None and there <= here, f"{module_name(path)} imports {target}, a layer above it"


def test_no_import_circle():
    graph = {module_name(p): {t for t in imports(p) if t != module_name(p)} for p in modules()}
    graph = {m: {t if t in graph else t.rsplit(".", 1)[0] for t in ts} for m, ts in graph.items()}
    state = {}

    def visit(m, trail):
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", "import circle: " + " -> ".join(trail + [m])
        state[m] = "open"
        for t in sorted(graph.get(m, ())):
            if not (m.startswith(t + ".") and t in graph):  # a module may import its own package's names
                visit(t, trail + [m])
        state[m] = "done"

    for m in sorted(graph):
        visit(m, [])


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_modules_stay_short(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_the_engine_never_asks_what_class_a_step_or_denoiser_is():
    for path in (ROOT / "engine").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                kind = ast.unparse(node.args[1])
                assert kind.startswith("np."), f"{path.name}: isinstance(..., {kind})"
