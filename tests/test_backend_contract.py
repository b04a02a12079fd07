"""The backend contract and the shape of the core: every backend provides every
name, code outside backends/ asks only for contract names, a second backend
trains a model bit for bit like the CPU one, and the engine imports no
inspection code."""
import ast
import pathlib
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import backends
from tinygrad_bn.backends import CONTRACT, ArrayBackend, get_backend
from tinygrad_bn.backends.cpu import CPU_KERNELS

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinygrad_bn"


def _sources(folder):
    return {p: p.read_text() for p in sorted(folder.rglob("*.py"))}


def test_every_backend_implements_the_whole_contract():
    be = get_backend("cpu")
    assert len(CONTRACT) > 60
    missing = [n for n in CONTRACT if not hasattr(be, n)]
    assert missing == []
    for name in CONTRACT:
        doc = getattr(backends.Backend, name, None)
        if callable(doc):
            assert doc.__doc__, f"contract method {name} has no one-line doc"


def test_code_outside_backends_asks_only_for_contract_names():
    used = {}
    pattern = re.compile(r"(?:\bbe|\bbackend|ctx\.backend|\._backend|\bout_be)\.([a-z_]+)\(")
    write = re.compile(r"_write\(\"([a-z_]+)\"")
    for path, text in _sources(PACKAGE).items():
        # tinygrad_bn/cuda.py (torch.cuda's twin) talks to the CUDA backend itself
        if "backends" in path.parts or path == PACKAGE / "cuda.py":
            continue
        for name in pattern.findall(text) + write.findall(text):
            used.setdefault(name, path.name)
    assert len(used) > 40  # the scan sees the ops
    unknown = {n: f for n, f in used.items() if n not in CONTRACT}
    assert unknown == {}, f"backend names used but not in backends/contract.py: {unknown}"


def test_the_contract_holds_only_names_something_uses():
    text = "\n".join(t for p, t in _sources(PACKAGE).items() if "backends" not in p.parts)
    text += (ROOT / "README.md").read_text()
    unused = [n for n in CONTRACT if not re.search(rf"[.\"]{n}\b", text)]
    assert unused == [], f"contract names nothing outside backends/ uses: {unused}"


def test_a_backend_missing_a_name_is_refused_with_the_names():
    class Half:
        name = "half"

        def add(self, a, b):
            return a + b

    with pytest.raises(TypeError, match="lacks contract names.*'sub'"):
        backends.register_backend("half", Half())


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
    for name in ("engine.py", "function.py", "grad_mode.py", "observers.py"):
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
    files = ["engine.py", "function.py", "grad_mode.py", "creation.py", "random.py", "observers.py"]
    paths = [p for f in folders for p in (PACKAGE / f).glob("*.py")] + [PACKAGE / f for f in files]
    for path in paths:
        assert not any(d == "numpy" or d.startswith("numpy.") for d in _imports(path)), f"{path} imports numpy"
        assert "np." not in path.read_text(), f"{path} calls NumPy"


@pytest.fixture
def alt_device(monkeypatch):
    """A second device: the same array backend class over NumPy, registered as "alt"."""
    be = ArrayBackend("alt", np, CPU_KERNELS)
    monkeypatch.setitem(backends._BACKENDS, "alt", be)
    be.seed(0)
    return be


def test_a_second_backend_trains_like_the_cpu_one_bit_for_bit(alt_device, train_simplenet_bn):
    cpu_model, cpu_loss = train_simplenet_bn("cpu")
    alt_model, alt_loss = train_simplenet_bn("alt")
    assert alt_loss.device == "alt" and all(p.device == "alt" for p in alt_model.parameters())
    assert all(p.grad.device == "alt" for p in alt_model.parameters())
    assert alt_loss.item() == cpu_loss.item()
    for (k, a), (_, b) in zip(alt_model.state_dict().items(), cpu_model.state_dict().items()):
        np.testing.assert_array_equal(a.cpu().numpy(), b.numpy(), err_msg=k)


def test_moving_between_devices_is_recorded_and_copies(alt_device):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("alt")
    assert y.device == "alt" and y.grad_fn.name == "ToDevice"
    assert not np.shares_memory(y._data, x._data)
    back = tg.tensor(y.detach(), device="cpu")  # a new tensor from one on another device
    assert back.device == "cpu" and back.tolist() == [1.0, 2.0, 3.0]
    assert not np.shares_memory(back.numpy(), y._data)
    with pytest.raises(TypeError, match="on 'alt'.*cpu\\(\\).numpy\\(\\)"):
        y.detach().numpy()  # as in PyTorch: only CPU tensors convert to NumPy
    w = tg.tensor([3.0, -1.0, 0.5], device="alt")
    (y * w).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [3.0, -1.0, 0.5]
    with pytest.raises(RuntimeError, match="same device.*cpu and alt.*move them with .to"):
        x + y
    with pytest.raises(ValueError, match="unknown device 'tpu'.*available devices"):
        x.to("tpu")


def test_manual_seed_seeds_every_device(alt_device):
    tg.manual_seed(7)
    a = tg.rand(5)
    b = tg.rand(5, device="alt")
    assert b.device == "alt" and a.tolist() == b.tolist()
    tg.manual_seed(7)
    assert tg.rand(5).tolist() == a.tolist()


@pytest.mark.parametrize("op, fn", [
    ("Add", lambda a, b: a + b), ("MatMul", lambda a, b: a @ b.T), ("Cat", lambda a, b: tg.cat([a, b])),
    ("Where", lambda a, b: tg.where(a > 0, a, b)), ("Linear", lambda a, b: tg.nn.functional.linear(b, a)),
    ("BatchNorm", lambda a, b: tg.nn.functional.batch_norm(b, None, None, a[0], None, training=True)),
    ("CrossEntropy", lambda a, b: tg.nn.functional.cross_entropy(b, tg.tensor([0, 1]))),
])
def test_mixing_devices_in_one_op_names_the_op_and_both_devices(alt_device, op, fn):
    a, b = tg.ones(2, 3), tg.ones(2, 3, device="alt", requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"^{op}: expected all tensors on the same device, got "
                                           r"(cpu and alt|alt and cpu); move them with \.to\(device\)"):
        fn(a, b)
    assert b.grad is None and a.device == "cpu" and b.device == "alt"
