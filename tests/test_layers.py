"""The house's promises, checked on the source: imports point down the layers (docs/DESIGN.md, package
map), no import circle, modules of about 300 lines, and an engine that never asks what class a step or
a denoiser is."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "refimpl"
LAYERS = ["core", "laws", "denoisers", "diffusion", "engine", "samplers", "limits", "models", "reports", "experiments",
          "interop", "testing", "cli"]
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


SAMPLER_LAYERS = ["kernels", "steps", None]  # inside refimpl.samplers: draw kernels, step kinds, then the families


def sampler_layer(module):
    """0 for refimpl.samplers.kernels, 1 for refimpl.samplers.steps, 2 for the family modules (and the package)."""
    parts = module.split(".")
    return SAMPLER_LAYERS.index(parts[2] if len(parts) > 3 and parts[2] in SAMPLER_LAYERS else None)


@pytest.mark.parametrize("path", sorted((ROOT / "samplers").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_inside_samplers_imports_point_down_and_never_sideways(path):
    """kernels -> steps -> family modules: a kernel imports no step, a step no family module; and a family module
    imports no other family module (what two families share lives in refimpl.samplers.plans; the registries and
    the case table list them all)."""
    here = module_name(path)
    shared = {"refimpl.samplers.plans", "refimpl.samplers.params", "refimpl.samplers.steps", "refimpl.samplers.kernels"}
    for target in imports(path):
        if not target.startswith("refimpl.samplers."):
            continue
        assert sampler_layer(target) <= sampler_layer(here), f"{here} imports {target}, a layer above it"
        family = sampler_layer(here) == 2 and sampler_layer(target) == 2 and path.name != "__init__.py"
        if family and here not in shared | {"refimpl.samplers.registry", "refimpl.samplers.uniform_registry",
                                            "refimpl.samplers.cases"}:
            assert target in shared, f"{here} imports {target}, another family's module"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_modules_stay_short(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_the_engine_never_asks_what_class_a_step_or_denoiser_is():
    """The engine acts on the answers of the step protocol: no isinstance but the one check that a plan's steps are
    steps (refimpl.engine.problem, against the protocol's declared KINDS), and no getattr/hasattr probing a step
    for an attribute the protocol does not declare."""
    for path in (ROOT / "engine").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                kind = ast.unparse(node.args[1])
                assert kind.startswith("np.") or (path.name == "problem.py" and kind in ("KINDS", "Problem")), \
                    f"{path.name}: isinstance(..., {kind})"
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("getattr", "hasattr"):
                probed = ast.unparse(node.args[0])
                assert probed not in ("step", "move", "self.step"), f"{path.name}: {ast.unparse(node)}"


PUBLIC_MODULES = ["refimpl.laws.datasets", "refimpl.laws.joint", "refimpl.laws.quantities", "refimpl.laws.lattice",
                  "refimpl.laws.metrics",
                  "refimpl.laws.space", "refimpl.diffusion.elbo", "refimpl.diffusion.forward",
                  "refimpl.diffusion.schedules", "refimpl.engine.calls", "refimpl.engine.exact", "refimpl.engine.sample",
                  "refimpl.engine.problem", "refimpl.engine.runner",
                  "refimpl.models.checkpoint", "refimpl.models.train", "refimpl.interop.verify",
                  "refimpl.interop.vectors", "refimpl.interop.adapters", "refimpl.interop.torch_adapters",
                  "refimpl.core.memory",
                  "refimpl.samplers.kernels.precision", "refimpl.samplers.kernels.ties", "refimpl.core.float32",
                  "refimpl.limits.information", "refimpl.limits.step_sizes", "refimpl.limits.optimal",
                  "refimpl.limits.adaptive", "refimpl.limits.profile", "refimpl.experiments.sweep",
                  "refimpl.experiments.executors"]


def public_functions():
    """The documented API (docs/DESIGN.md): refimpl.__all__, refimpl.denoisers.__all__, refimpl.engine.__all__
    and every public function of the user-facing modules above."""
    import importlib
    import inspect

    import refimpl
    import refimpl.denoisers
    import refimpl.engine
    found = {}
    for package in (refimpl, refimpl.denoisers, refimpl.engine):
        for name in package.__all__:
            value = getattr(package, name)
            if inspect.isfunction(value):
                found[f"{value.__module__}.{value.__name__}"] = value
    for module_path in PUBLIC_MODULES:
        module = importlib.import_module(module_path)
        for name, value in vars(module).items():
            if not name.startswith("_") and inspect.isfunction(value) and value.__module__ == module_path:
                found[f"{module_path}.{name}"] = value
    return sorted(found.items())


@pytest.mark.parametrize("name,function", public_functions(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_public_api_has_type_hints_that_resolve(name, function):
    import inspect
    import typing
    signature = inspect.signature(function)
    bare = [p.name for p in signature.parameters.values()
            if p.annotation is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert not bare, f"{name}: parameters without a type hint: {bare}"
    assert signature.return_annotation is not inspect.Signature.empty, f"{name}: no return type hint"
    typing.get_type_hints(function)  # every string hint names something the module can see
