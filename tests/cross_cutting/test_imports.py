"""The shape of the package's imports: no cycle at load time, the engine
imports no inspection code, kernels import nothing from the package, no NumPy
in the engine, ops, nn and optim, no module fills in another's globals, and
nn, optim and distributions reach a tensor's private fields only through
tensor_base, and the compiled ufuncs load on first use, not with the package."""
import ast
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tinygrad_bn"


def _sources(folder):
    return {p: p.read_text() for p in sorted(folder.rglob("*.py"))}


def _imports(path):
    """Modules a file imports at load time (top level and class bodies, not inside functions)."""
    tree = ast.parse(path.read_text())
    out = set()
    pkg = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in tree.body:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = list(pkg[:len(pkg) - node.level + 1]) if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_engine_imports_no_inspection_and_kernels_no_framework():
    engine = sorted(p.name for p in PACKAGE.glob("engine*.py"))  # the walk and its parts
    for name in engine + ["function.py", "grad_mode.py", "observers.py"]:
        deps = _imports(PACKAGE / name)
        bad = [d for d in deps if re.search(r"tinygrad_bn\.(tape|anomaly|nn|attribution)\b", d)]
        assert bad == [], f"{name} imports {bad}"
    assert all("tinygrad_bn.nn" not in d for d in _imports(PACKAGE / "tape.py"))
    for path, text in _sources(ROOT / "kernels").items():
        assert "tinygrad_bn" not in text, f"{path} refers to tinygrad_bn"


def test_no_import_cycle_among_core_modules():
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = {d for d in _imports(path) if d in modules and d != name}
        # "from . import x" names the package too; a package's own __init__ is loaded first anyway
        graph[name] = {d for d in deps if not name.startswith(d + ".") and d != "tinygrad_bn"}
    state = {}

    def visit(n, trail):
        if state.get(n) == "done":
            return
        assert state.get(n) != "open", f"import cycle: {' -> '.join(trail + [n])}"
        state[n] = "open"
        for d in sorted(graph[n]):
            visit(d, trail + [n])
        state[n] = "done"

    for n in sorted(graph):
        visit(n, [])


def test_no_numpy_in_the_engine_ops_nn_and_optim():
    folders = ["ops", "nn", "optim"]
    files = sorted(p.name for p in PACKAGE.glob("engine*.py")) + [
        "function.py", "grad_mode.py", "creation.py", "random.py", "observers.py", "distributed/syncbn.py"]
    paths = [p for f in folders for p in (PACKAGE / f).glob("*.py")] + [PACKAGE / f for f in files]
    for path in paths:
        assert not any(d == "numpy" or d.startswith("numpy.") for d in _imports(path)), f"{path} imports numpy"
        assert "np." not in path.read_text(), f"{path} calls NumPy"


def test_no_module_fills_in_another_modules_names_at_load_time():
    """Every module gets what it needs by importing it: no ``other_module.name = ...``
    at load time (the hidden dependency a module-level injection makes)."""
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        modules = set()
        for node in tree.body:
            if isinstance(node, ast.Import):
                modules.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                modules.update(a.asname or a.name for a in node.names)
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in modules:
                    raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} sets {t.value.id}.{t.attr}")


def test_nn_optim_and_distributions_use_the_internal_api_not_private_fields():
    """Above the ops, a tensor's array, backend, version and in-place write are
    reached through tensor_base's functions (``array_of``, ``backend_of``,
    ``same_device``, ``write_in_place``, ...), never as attributes."""
    private = {"_data", "_backend", "_version_cell", "_write"}
    found = []
    for folder in ("nn", "optim", "distributions"):
        for path in sorted((PACKAGE / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr in private:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert found == [], "private tensor fields read above the ops:\n" + "\n".join(found)


def test_the_compiled_ufuncs_load_on_first_use_not_with_the_package():
    """Loading a ufunc from Numba's cache starts Numba's compiler, 0.3 s that every
    process importing tinygrad_bn (a CLI's --help, each MPI rank) would pay. The
    process's first erf here runs inside a compiled step's trace, which wraps
    the backend's erf: the step must still replay what eager mode computes."""
    code = """
import sys
import numpy as np
import tinygrad_bn as tg
lazy = ["kernels.cpu.elementwise", "kernels.cpu.special"]
print([m in sys.modules for m in lazy])
F = tg.nn.functional
step = tg.compile(lambda x: F.gelu(F.gelu(x)), fuse=False)
x = tg.tensor(np.array([-1.0, 0.0, 0.5]))
replays = [step(x).numpy().tolist() for _ in range(4)]  # the first traces, the others replay
print([r == F.gelu(F.gelu(x)).numpy().tolist() for r in replays])
x.requires_grad_()
(F.gelu(x) * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
print(float(tg.tensor(np.array([0.5])).erfinv().numpy()[0]), [m in sys.modules for m in lazy])
print(x.grad.numpy().round(6).tolist())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    before, replays, after, grad = out.stdout.splitlines()
    assert before == "[False, False]"
    assert replays == "[True, True, True, True]"
    assert after == "0.4769362762044699 [True, True]"
    # d/dx x*Phi(x) = Phi(x) + x*phi(x), weighted 1, 2, 3
    assert grad == "[-0.083315, 1.0, 2.602485]"
