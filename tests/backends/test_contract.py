"""The backend contract: a small core each device provides, a derived layer
built from it, the kernel protocol, and the code that uses them.

Every backend provides every name; code outside backends/ asks only for
contract names; the core stays small; a device that provides only the core
trains like the CPU; each name the array backend overrides for speed gives
what the derived layer gives; and a second device registered as the same
computation as "cpu" trains bit for bit like it."""
import inspect
import pathlib
import re
from types import SimpleNamespace

import numpy as np
import pytest

import kernels.cpu
import kernels.protocol
import tinygrad_bn as tg
from kernels.cpu.elementwise import erf
from kernels.protocol import OPTIONAL_NAMES as OPTIONAL_KERNEL_NAMES
from tinygrad_bn import backends
from tinygrad_bn.backends import CONTRACT, CORE, DERIVED, KERNEL_NAMES, Derived, get_backend
from tinygrad_bn.backends.array import SPECIAL_FUNCTIONS, ArrayBackend
from tinygrad_bn.backends.contract import Core
from tinygrad_bn.backends.cpu import cpu_backend, cpu_special_function

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tinygrad_bn"

# The core a device must write itself; a name that can be built from others
# belongs in backends/derived.py instead.
MAX_CORE_FUNCTIONS = 36


def _sources(folder):
    return {p: p.read_text() for p in sorted(folder.rglob("*.py"))}


def test_the_core_is_small_and_every_name_says_what_it_means():
    functions = [n for n in CORE if callable(getattr(Core, n, None))]
    print(f"core: {len(functions)} functions + {len(CORE) - len(functions)} attributes; "
          f"derived: {len(DERIVED)}; kernels: {len(KERNEL_NAMES)}")
    assert len(functions) <= MAX_CORE_FUNCTIONS, functions
    assert not set(CORE) & set(DERIVED)
    for name in functions:
        assert getattr(Core, name).__doc__, f"core name {name} has no one-line doc"
    for name in DERIVED:
        assert getattr(Derived, name).__doc__, f"derived name {name} has no one-line doc"
    for name in KERNEL_NAMES:
        if name != "KERNEL_MODULES":
            assert getattr(kernels.protocol.NormKernels, name).__doc__, name


def test_every_backend_implements_the_whole_contract_and_the_kernel_protocol():
    for be in (get_backend("cpu"), cpu_backend("alt")):
        assert [n for n in CONTRACT if not hasattr(be, n)] == []
        assert [n for n in KERNEL_NAMES if not hasattr(be.kernels, n)] == []


def test_the_derived_layer_uses_only_contract_names():
    used = set(re.findall(r"\b(?:self|be)\.([a-z_]+)\(", inspect.getsource(backends.derived)))
    assert used <= set(CONTRACT), used - set(CONTRACT)


def test_code_outside_backends_asks_only_for_contract_names():
    used, kernel_used = {}, {}
    # every way code here reaches a backend, calls and attribute reads alike
    pattern = re.compile(r"(?:\bbe|\bbackend|ctx\.backend|ctx\.output_backend|\._backend|\bout_be|"
                         r"\bbackend_of\([^()]*\)|get_backend\([^()]*\)|\(ctx\.output_backend or (?:ctx\.backend|be)\))"
                         r"\.([A-Za-z_]+)")
    kernel_pattern = re.compile(r"\.kernels\.([A-Za-z_]+)")
    write = re.compile(r"(?:_write\(|write_in_place\([^,()]+, )\"([a-z_]+)\"")
    for path, text in _sources(PACKAGE).items():
        # tinygrad_bn/cuda.py (torch.cuda's twin) talks to the CUDA backend itself
        if "backends" in path.parts or path == PACKAGE / "cuda.py":
            continue
        for name in pattern.findall(text) + write.findall(text):
            used.setdefault(name, path.name)
        for name in kernel_pattern.findall(text):
            kernel_used.setdefault(name, path.name)
    assert len(used) > 40 and len(kernel_used) >= 8  # the scan sees the ops and the tape
    assert {n: f for n, f in used.items() if n not in CONTRACT + ("kernels",)} == {}, \
        "names not in backends/contract.py"
    assert {n: f for n, f in kernel_used.items() if n not in KERNEL_NAMES + OPTIONAL_KERNEL_NAMES} == {}, \
        "not in kernels/protocol.py"


def test_the_optional_kernels_are_the_cpus_own():
    """The names beyond the protocol: the CPU's package has each, the CUDA one none (its ops compose them)."""
    assert [n for n in OPTIONAL_KERNEL_NAMES if not callable(getattr(kernels.cpu, n, None))] == []
    cuda_source = "\n".join(p.read_text() for p in (ROOT / "kernels" / "cuda").glob("*.py"))
    assert [n for n in OPTIONAL_KERNEL_NAMES if re.search(rf"^{n}\b", cuda_source, re.MULTILINE)] == []



def test_the_readme_counts_and_names_the_layers_as_the_code_does():
    """README's "Devices and backends": the core's functions (each named) and
    attributes, and how many names the derived layer has."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Devices and backends"):]
    section = section[:section.index("\n## ", 1)]
    core = re.search(r"the \*\*core\*\*, (\d+) primitives a device writes itself \(([^)]*)\) and (\d+) "
                     r"attributes \(([^)]*)\)", section)
    derived = re.search(r"the other (\d+) names ops use", section)
    assert core and derived, "README: the core and derived layers' sentences are not where they were"
    functions = [n for n in CORE if callable(getattr(Core, n, None))]
    attributes = [n for n in CORE if n not in functions]
    assert int(core[1]) == len(functions) and int(core[3]) == len(attributes)
    assert re.findall(r"`(\w+)`", core[2]) == functions
    assert re.findall(r"`(\w+)`", core[4]) == attributes
    assert int(derived[1]) == len(DERIVED)

def test_the_contract_holds_only_names_something_uses():
    text = "\n".join(t for p, t in _sources(PACKAGE).items() if "backends" not in p.parts)
    text += (ROOT / "README.md").read_text()
    unused = [n for n in CONTRACT + KERNEL_NAMES if not re.search(rf"[.\"]{n}\b", text)]
    # the derived layer is built from the core: a core name may be used there only
    derived_source = inspect.getsource(backends.derived)
    unused = [n for n in unused if not (n in CORE and re.search(rf"\.{n}\(", derived_source))]
    assert unused == [], f"contract names nothing outside backends/ uses: {unused}"


def test_a_backend_missing_a_name_is_refused_with_the_names():
    class Half:
        name = "half"

        def add(self, a, b):
            return a + b

    with pytest.raises(TypeError, match="lacks contract names.*'mul'.*subclasses backends.Derived"):
        backends.register_backend("half", Half())


def test_a_backend_whose_kernels_lack_a_kernel_is_refused_naming_it():
    """Every name of the contract there, but its kernels module without layer_norm:
    refused at registration, not with an AttributeError in the first LayerNorm."""
    kernels_without = SimpleNamespace(**{n: getattr(kernels.cpu, n) for n in KERNEL_NAMES if n != "layer_norm"})
    backend = ArrayBackend("nolayernorm", np, kernels_without, erf)
    with pytest.raises(TypeError, match=r"lacks contract names \['kernels.layer_norm'\]"):
        backends.register_backend("nolayernorm", backend)
    assert "nolayernorm" not in backends.devices()


# ------------------------------------------------------------------ a device with only the core


class NumpyCore(Derived):
    """A device written as the contract asks of a new one: the core, over NumPy,
    and nothing else (every derived name comes from Derived). As strict as CuPy
    where NumPy is lenient, so the derived layer is tried as a GPU would run it:
    results are arrays (NumPy gives scalars for 0-d results, CuPy 0-d arrays),
    and where() takes only an array as its condition."""

    def __init__(self, name="core"):
        self.name, self.ndarray, self.kernels = name, np.ndarray, kernels.cpu
        self.seed(0)

    def asarray(self, x, dtype=None): return np.asarray(x, dtype=dtype)
    def to_numpy(self, x): return x
    def full(self, shape, value, dtype): return np.full(shape, value, dtype)
    def arange(self, start, stop, step, dtype): return np.arange(start, stop, step).astype(dtype)
    def seed(self, seed): self.generator = np.random.default_rng(seed)
    def rand(self, shape, dtype): return self.generator.random(shape).astype(dtype)
    def randn(self, shape, dtype): return self.generator.standard_normal(shape).astype(dtype)
    def add(self, a, b): return np.asarray(np.add(a, b))
    def mul(self, a, b): return np.asarray(np.multiply(a, b))
    def div(self, a, b): return np.asarray(np.divide(a, b))
    def pow(self, a, b): return np.asarray(np.power(a, b))
    def exp(self, a): return np.asarray(np.exp(a))
    def log(self, a): return np.asarray(np.log(a))
    def sqrt(self, a): return np.asarray(np.sqrt(a))
    def abs(self, a): return np.asarray(np.abs(a))
    def tanh(self, a): return np.asarray(np.tanh(a))
    def erf(self, a): return erf(a)
    def math(self, fn, *args):
        f = cpu_special_function(fn) if fn in SPECIAL_FUNCTIONS else getattr(np, fn)
        return np.asarray(f(*args))
    def maximum(self, a, b): return np.asarray(np.maximum(a, b))
    def where(self, cond, a, b):
        if not isinstance(cond, np.ndarray):
            raise TypeError(f"where: the condition must be an array, as in CuPy, got {type(cond).__name__}")
        return np.where(cond, a, b)
    def less(self, a, b): return np.asarray(np.less(a, b))
    def equal(self, a, b): return np.asarray(np.equal(a, b))
    def sum(self, x, axis=None, keepdims=False): return np.asarray(np.sum(x, axis=axis, keepdims=keepdims))
    def max(self, x, axis=None, keepdims=False): return np.asarray(np.max(x, axis=axis, keepdims=keepdims))
    def prod(self, x, axis=None, keepdims=False): return np.asarray(np.prod(x, axis=axis, keepdims=keepdims))
    def argmax(self, x, axis=None, keepdims=False): return np.argmax(x, axis=axis, keepdims=keepdims)
    def reshape(self, x, shape): return np.reshape(x, shape)
    def transpose(self, x, axes): return np.transpose(x, axes)
    def broadcast_to(self, x, shape): return np.broadcast_to(x, shape)
    def concatenate(self, arrays, axis): return np.concatenate(arrays, axis)
    def getitem(self, x, index): return x[index]
    def setitem(self, x, index, value): x[index] = value
    def scatter_add(self, shape, dtype, index, values):
        out = np.zeros(shape, dtype)
        np.add.at(out, index, values)
        return out
    def shares_memory(self, a, b): return np.may_share_memory(a, b)
    def matmul(self, a, b): return np.matmul(a, b)
    def synchronize(self): pass


def test_the_core_only_device_writes_exactly_the_core():
    written = {n for n in vars(NumpyCore) if not n.startswith("_")}
    assert written == {n for n in CORE if n not in ("name", "ndarray", "kernels", "generator")}
    assert {"name", "ndarray", "kernels", "generator"} <= set(vars(NumpyCore()))


@pytest.fixture
def core_device(monkeypatch):
    be = NumpyCore()
    monkeypatch.setitem(backends._BACKENDS, "core", be)
    return be


def test_a_device_with_only_the_core_trains_like_the_cpu(core_device, train_simplenet_bn):
    cpu_model, cpu_loss = train_simplenet_bn("cpu")
    core_model, core_loss = train_simplenet_bn("core")
    assert core_loss.device == "core" and all(p.grad.device == "core" for p in core_model.parameters())
    assert core_loss.item() == pytest.approx(cpu_loss.item(), rel=1e-5)
    for (k, a), (_, b) in zip(core_model.state_dict().items(), cpu_model.state_dict().items()):
        np.testing.assert_allclose(a.cpu().numpy(), b.numpy(), rtol=1e-4, atol=1e-5, err_msg=k)


def test_every_op_and_the_tape_run_on_the_core_only_device(core_device):
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((6, 4)), device="core", requires_grad=True)
    w = tg.tensor(rng.standard_normal((6, 4)), device="core")
    with tg.Tape() as tape:
        y = (x.sigmoid() * w + x.abs().sqrt() - x.clamp(-0.5, 0.5) / 3 + tg.maximum(x, -x).exp().log()).mean(1)
        z = tg.nn.functional.gelu(y).amax() + x.min() + x.std() + x.softmax(1)[:, 1].sum() + x[[0, 2]].sum()
        z = z + tg.nn.functional.cross_entropy(x, tg.tensor([0, 1, 2, 3, 0, 1], device="core"))
    z.backward()
    cpu = tg.tensor(x.detach().cpu().numpy(), requires_grad=True)
    wc = w.cpu()
    yc = (cpu.sigmoid() * wc + cpu.abs().sqrt() - cpu.clamp(-0.5, 0.5) / 3 + tg.maximum(cpu, -cpu).exp().log()).mean(1)
    zc = tg.nn.functional.gelu(yc).amax() + cpu.min() + cpu.std() + cpu.softmax(1)[:, 1].sum() + cpu[[0, 2]].sum()
    zc = zc + tg.nn.functional.cross_entropy(cpu, tg.tensor([0, 1, 2, 3, 0, 1]))
    zc.backward()
    assert z.item() == pytest.approx(zc.item(), rel=1e-12)
    np.testing.assert_allclose(x.grad.cpu().numpy(), cpu.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert len(tape.entries) > 20 and tape.entries[0].output["device"] == "core"


# ------------------------------------------------------------------ overrides mean what the derived layer means

F = [np.array([1.5, -0.0, 0.0, -2.25, np.nan, np.inf, -np.inf, 3.0], dtype=d) for d in (np.float32, np.float64)]
I = [np.array([3, -7, 0, np.iinfo(np.int64).min, np.iinfo(np.int64).max, 5], dtype=np.int64),
     np.array([0, 7, 255, 1], dtype=np.uint8)]
B = [np.array([True, False, True])]
M = [np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 7.5, np.array([[3.0, np.nan], [1.0, -1.0]])]

# name -> argument tuples to call it with (arrays are copied for each call)
CASES = {
    "cast": [(a, d) for a in F + I + B for d in (np.float32, np.int64, np.bool_)],
    "copy": [(a,) for a in F + I + B + M],
    "ascontiguous": [(M[0].transpose(2, 0, 1),), (np.float64(2.5) * np.ones(()),), (F[0],)],
    "zeros": [((2, 3), np.float32), ((), np.int64)],
    "zeros_like": [(a,) for a in F + I] + [(F[0], np.bool_)],
    "ones_like": [(a,) for a in F + I + B] + [(I[0], np.float32)],
    "neg": [(a,) for a in F + I],
    "sub": [(a, b) for a in F for b in (a[::-1], 2, 0.5)] + [(2, F[1]), (I[0], 3), (I[1], 1), (200, I[1]),
                                                              (I[1], I[1][::-1]), (I[1], 2.5)],
    "sign": [(a,) for a in F + I],
    "sigmoid": [(a,) for a in F] + [(np.array([-800.0, 800.0, -20.0]),)],
    "relu": [(a,) for a in F + I[:1]],
    "relu_backward": [(a, np.arange(len(a), dtype=a.dtype)) for a in F],
    "minimum": [(a, b) for a in F for b in (a[::-1], 0.0, -0.0)] + [(I[0], I[0][::-1]), (I[1], 7)],
    "clip": [(a, lo, hi) for a in F for lo, hi in ((-1.0, 2.0), (None, 0.0), (0.0, None))] + [(I[0], -3, 4)],
    "greater": [(a, a[::-1]) for a in F + I] + [(F[0], 0)],
    "greater_equal": [(a, a[::-1]) for a in F + I] + [(F[0], 0)],
    "less_equal": [(a, a[::-1]) for a in F + I] + [(F[0], 0)],
    "not_equal": [(a, a[::-1]) for a in F + I + B],
    "logical_and": [(B[0], B[0][::-1]), (F[0], F[0][::-1]), (B[0], True)],
    "logical_not": [(a,) for a in F + I + B] + [(0.0,), (3,)],
    "isnan": [(a,) for a in F],
    "isfinite": [(a,) for a in F + I + B],
    # reductions take axis and keepdims by keyword, as ops pass them
    "mean": [(a, {"axis": ax, "keepdims": k}) for a in M + F[:1] + I[:1] + [np.array([1, 2, 4], np.float16)]
             for ax, k in ((None, False), (0, True), (-1, False))] + [(M[0], {"axis": (0, 2)})]
            # bool and unsigned input averaged in float64; no elements: NaN (0 / 0), of the reduced shape
            + [(a, {"axis": ax}) for a in B + I[1:] + [np.array([[True, False], [True, True]])] for ax in (None, -1)]
            + [(np.zeros(s, d), {"axis": ax, "keepdims": k}) for s, d in (((0, 3), np.float64), ((2, 0), np.int64),
                                                                          ((0,), np.float16))
               for ax, k in ((None, False), (0, False), (0, True), (-1, True))],
    "min": [(a, {"axis": ax, "keepdims": k}) for a in M + F + I + B for ax, k in ((None, False), (0, True))],
    "argmin": [(a, {"axis": ax, "keepdims": k}) for a in M + F + I + B
               for ax, k in ((None, False), (0, False), (-1, True))],
    "any": [(a,) for a in F + I + B] + [(np.zeros(3),), (np.zeros((0, 2)),)],
    "unbroadcast": [(np.ones((2, 3, 4)), (3, 1)), (np.ones((2, 3)), (2, 3)), (np.ones((5, 2)), (1, 2)),
                    (np.ones((4,)), ())],
    "swapaxes": [(M[0], 0, 2), (M[0], -1, -2)],
    "stack": [([F[0], F[0][::-1]], 0), ([M[0], M[0]], -1), ([M[0], M[0]], 1)],
    "split_at": [(M[0], 2, 0), (M[0], [1, 3], 2), (M[0], [2], -1)],
    "take_along_axis": [(M[0], np.array([[[0], [2], [1]], [[3], [0], [0]]]), 2),
                        (M[0], np.array([[[1, 0, 1, 0]]]).repeat(2, 0), 1),
                        (M[0], np.array([[[0], [2], [1]], [[3], [0], [0]]]), -1),
                        (M[0], np.array([[[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]]]), 0)],
    "argsort": [(a, axis) for a in F + I + B + M + [np.array([[2.0, 1.0, 2.0], [np.nan, 1.0, 1.0]])]
                for axis in range(a.ndim)],
}
# in place: name -> (target, further arguments)
IN_PLACE = {
    "put_along_axis": [(M[0], np.array([[[0], [2], [1]], [[3], [0], [0]]]), -9.0, 2)],
    "iadd": [(F[1], F[1][::-1]), (I[0][:3], np.array([1.7, 2.2, -0.5]))],
    "isub": [(F[1], 2.0), (I[0][:3], np.array([1.7, 2.2, -0.5]))],
    "imul": [(F[0], F[0][::-1]), (I[0][:3], 0.5)],
    "idiv": [(F[1], 4.0), (I[0][:3], np.array([2.0, 3.0, 4.0]))],
    "axpy": [(F[1], -0.1, F[1][::-1]), (M[0], 3.0, M[0])],
    "fill": [(F[0], 7.5), (I[0], 2)],
    "copyto": [(F[0], 1.25), (I[0][:3], np.array([1.9, -2.9, 3.0])), (M[0], M[0][0, :1])],
}
RANDOM = {"uniform": (-2.0, 3.0, (5, 4), np.float32), "normal": (1.0, 2.0, (5, 4), np.float64),
          "bernoulli_mask": (0.3, (7, 6), np.float32)}


def _copy(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _same(a, b, label):
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) or isinstance(b, list) and len(a) == len(b), label
        for x, y in zip(a, b):
            _same(x, y, label)
        return
    assert np.asarray(a).dtype == np.asarray(b).dtype, f"{label}: dtype {np.asarray(a).dtype} != {np.asarray(b).dtype}"
    assert np.shape(a) == np.shape(b), label
    np.testing.assert_array_equal(a, b, err_msg=label)
    # -0.0 against 0.0 too, except where NumPy's clip and min leave the tie's sign unspecified
    if np.asarray(a).dtype.kind == "f" and not label.startswith(("clip", "min(")):
        number = ~np.isnan(a)
        assert np.array_equal(np.signbit(a)[number], np.signbit(b)[number]), f"{label}: sign of zero"


def _overridden():
    be = get_backend("cpu")
    return [n for n in DERIVED if getattr(type(be), n, None) is not getattr(Derived, n) or n in vars(be)]


def test_every_override_is_tested_here():
    missing = [n for n in _overridden() if n not in CASES and n not in IN_PLACE and n not in RANDOM
               and n not in ("check", "check_finite")]
    assert missing == []


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(CASES))
def test_an_override_gives_what_the_derived_layer_gives(name):
    cpu, core = get_backend("cpu"), NumpyCore()
    for args in CASES[name]:
        kwargs = args[-1] if isinstance(args[-1], dict) else {}
        args = args[:-1] if kwargs else args
        with np.errstate(all="ignore"):
            want = getattr(Derived, name)(core, *_copy(args), **kwargs)
            got = getattr(cpu, name)(*_copy(args), **kwargs)
        _same(got, want, f"{name}({', '.join(str(getattr(a, 'dtype', a)) for a in args)})")


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_an_in_place_override_writes_what_the_derived_layer_writes(name):
    cpu, core = get_backend("cpu"), NumpyCore()
    for target, *rest in IN_PLACE[name]:
        a, b = target.copy(), target.copy()
        with np.errstate(all="ignore"):
            getattr(Derived, name)(core, a, *_copy(rest))
            getattr(cpu, name)(b, *_copy(rest))
        _same(b, a, f"{name} on {target.dtype}")


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_a_random_override_draws_what_the_derived_layer_draws(name):
    cpu, core = cpu_backend("again"), NumpyCore()
    cpu.seed(5)
    core.seed(5)
    _same(getattr(cpu, name)(*RANDOM[name]), getattr(Derived, name)(core, *RANDOM[name]), name)


@pytest.mark.parametrize("name, args", [("neg", (B[0],)), ("sign", (B[0],)), ("sub", (B[0], B[0])),
                                        ("sub", (I[1], 300))])
def test_the_derived_layer_refuses_what_numpy_refuses(name, args):
    cpu, core = get_backend("cpu"), NumpyCore()
    with pytest.raises((TypeError, OverflowError)) as numpy_error:
        getattr(cpu, name)(*args)
    expected = TypeError if issubclass(numpy_error.type, TypeError) else numpy_error.type  # UFuncTypeError is one
    with pytest.raises(expected):
        getattr(Derived, name)(core, *args)


def test_check_and_check_finite_raise_alike_in_both_layers():
    cpu, core = get_backend("cpu"), NumpyCore()
    for be, check, check_finite in ((cpu, cpu.check, cpu.check_finite),
                                    (core, lambda *a: Derived.check(core, *a),
                                     lambda *a: Derived.check_finite(core, *a))):
        check(np.array([False, False]), IndexError, "never")
        with pytest.raises(IndexError, match="^bad 3$"):
            check(np.array([False, True]), IndexError, lambda: "bad 3")
        with np.errstate(invalid="ignore"):  # the derived isfinite computes inf - inf
            check_finite("fine", np.ones(3), np.zeros(2))
            check_finite("fine", np.zeros(0), np.ones((2, 0)))  # nothing to check in empty arrays
            for bad in (np.array([1.0, np.nan]), np.array([np.inf])):
                for arrays in ((np.ones(2), bad), (bad, np.ones(2)), (np.ones(1), bad, np.zeros(3))):
                    with pytest.raises(ValueError, match="^not finite$"):
                        check_finite("not finite", *arrays)


# ------------------------------------------------------------------ a second device


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
    assert not np.shares_memory(y.detach().cpu().numpy(), x.detach().numpy())
    back = tg.tensor(y.detach(), device="cpu")  # a new tensor from one on another device
    assert back.device == "cpu" and back.tolist() == [1.0, 2.0, 3.0]
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


FIRST_CHECKED = {"Where": "where", "BatchNorm": "batch_norm", "CrossEntropy": "cross_entropy"}


@pytest.mark.parametrize("op, fn", [
    ("Add", lambda a, b: a + b), ("MatMul", lambda a, b: a @ b.T), ("Cat", lambda a, b: tg.cat([a, b])),
    ("Where", lambda a, b: tg.where(a > 0, a, b)), ("Linear", lambda a, b: tg.nn.functional.linear(b, a)),
    ("BatchNorm", lambda a, b: tg.nn.functional.batch_norm(b, None, None, a[0], None, training=True)),
    ("CrossEntropy", lambda a, b: tg.nn.functional.cross_entropy(b, tg.tensor([0, 1]))),
])
def test_mixing_devices_in_one_op_names_the_op_and_both_devices(alt_device, op, fn):
    a, b = tg.ones(2, 3), tg.ones(2, 3, device="alt", requires_grad=True)
    # named by the op, or by the function that checks its arguments first (with which ones they were)
    with pytest.raises(RuntimeError, match=rf"^({op}|{FIRST_CHECKED.get(op, op)}): expected all tensors on the "
                                           r"same device, got (cpu and alt|alt and cpu)( \([a-z_ ]+\))?; move them "
                                           r"with \.to\(device\)"):
        fn(a, b)
    assert b.grad is None and a.device == "cpu" and b.device == "alt"


def test_every_mixing_of_devices_is_refused_before_anything_changes(alt_device):
    """In-place ops, item assignment, where, the functional norms, clipping and
    hooks refuse a tensor on the other device, naming both (the "cuda" twin of
    this test runs in the CUDA simulator)."""
    c, a = tg.ones(3), tg.ones(3, device="alt")
    cases = [
        (lambda: c.add_(a), "add_.*alt.*cpu"),
        (lambda: a.mul_(c), "mul_.*cpu.*alt"),
        (lambda: tg.where(c > 0, a, a), "where: expected all tensors on the same device, got cpu and alt"),
        (lambda: c.__setitem__(slice(0, 2), a[0:2]), "cpu.*alt"),
        (lambda: tg.nn.functional.batch_norm(tg.ones(2, 3, device="alt"), tg.zeros(3), tg.ones(3), training=True),
         r"batch_norm: expected all tensors on the same device, got alt and cpu \(the input and running_mean\)"),
        (lambda: tg.nn.functional.layer_norm(tg.ones(2, 3, device="alt"), (3,), tg.ones(3)), "layer_norm.*alt and cpu"),
    ]
    for call, message in cases:
        with pytest.raises(RuntimeError, match=message):
            call()
    assert c.tolist() == [1.0] * 3 and a.cpu().tolist() == [1.0] * 3 and c._version == 0 and a._version == 0
    p = tg.ones(3, device="alt", requires_grad=True)
    p.grad = tg.ones(3)
    with pytest.raises(RuntimeError, match="clip_grad_norm_.*cpu.*alt"):
        tg.nn.utils.clip_grad_norm_([p], 1.0)
    assert p.grad.tolist() == [1.0] * 3
    q = tg.ones(3, device="alt", requires_grad=True)
    q.register_hook(lambda grad: grad.cpu())
    with pytest.raises(RuntimeError, match="hook.*cpu.*alt"):
        (q * 2).sum().backward()
    assert q.grad is None
    x = tg.zeros(3)
    x.copy_(tg.tensor([1.0, 2.0, 3.0], device="alt"))  # copy_ copies across devices, as in PyTorch
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_the_recording_backend_has_every_contract_name_and_records():
    from tinygrad_bn.recording_backend import recording
    cpu = tg.backends.get_backend("cpu")
    rb = recording(cpu)
    assert rb.records and not cpu.records and rb.base is cpu and cpu.base is cpu
    assert [n for n in CONTRACT if not hasattr(rb, n)] == []
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = rb.mul(rb.exp(x), rb.sum(x))  # recorded ops: differentiable
    assert isinstance(y, tg.Tensor) and y.requires_grad and y.grad_fn is not None
    assert not rb.greater(x, 0).requires_grad  # comparisons are constants
    tg.manual_seed(3)
    assert rb.generator is cpu.generator  # follows seed()


@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_clip_grad_norm_over_parameters_on_two_devices_is_the_one_device_clip(alt_device, norm_type):
    """As PyTorch: one total norm over every device (on the first parameter's), each
    gradient scaled on its own device."""
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(3), rng.standard_normal((2, 2))]

    def clipped(devices):
        params = []
        for g, device in zip(grads, devices):
            p = tg.zeros(*g.shape, dtype=tg.float64, device=device).requires_grad_()
            p.grad = tg.tensor(g, device=device)
            params.append(p)
        total = tg.nn.utils.clip_grad_norm_(params, 0.5, norm_type)
        return total, params

    total, params = clipped(["cpu", "alt"])
    want_total, want = clipped(["cpu", "cpu"])
    assert total.device == "cpu" and params[1].grad.device == "alt"
    np.testing.assert_allclose(total.item(), want_total.item(), rtol=1e-12)
    for p, q in zip(params, want):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-12)


def test_an_override_of_a_derived_name_takes_its_parameters_with_the_same_defaults():
    """Callers pass optional arguments by the derived form's defaults (argmin's
    keepdims=False, ...): each backend's own form of a derived name takes the same
    parameters, of the same kinds, with the same defaults."""
    from tinygrad_bn.recording_backend import RecordingBackend
    classes = [ArrayBackend, RecordingBackend]
    try:
        from tinygrad_bn.backends.cuda import CudaBackend
        classes.append(CudaBackend)
    except ImportError:
        pass
    checked = 0
    for cls in classes:
        for name, derived in vars(Derived).items():
            own = getattr(cls, name, None)
            if name.startswith("_") or not callable(derived) or own is None or own is derived:
                continue
            a, b = inspect.signature(derived).parameters.values(), inspect.signature(own).parameters.values()
            assert [(p.kind, p.default) for p in a] == [(p.kind, p.default) for p in b], (cls.__name__, name)
            checked += 1
    assert checked >= 40
    a = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    assert Derived.argmin(get_backend("cpu"), a, axis=1).tolist() == [1, 2]  # the derived form itself
