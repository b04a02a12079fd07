"""The direct kernel launch's argument layout (kernels/cuda/_common.py,
DirectLaunch), without a GPU: the launch itself needs one
(tests/kernels/test_cuda_direct_launch.py runs every kernel both ways on the
card), but what it hands cuda.core can be checked anywhere, against the layout
Numba's own launch builds (numba-cuda's ``_Kernel._prepare_args``: an array is
meminfo, parent, size, itemsize, pointer, shape, strides; an integer its ctypes
type, a float64 a c_double, a float32 a c_float, a bool itself)."""
import ctypes
import warnings
from types import SimpleNamespace

import pytest

pytest.importorskip("numba.cuda")
from numba.core import types

from kernels.cuda import _common as kc


class FakeArray:
    """What the layout reads of a CuPy array."""

    def __init__(self, n, itemsize, ptr, ndim=1, contiguous=True):
        self.shape, self.ndim, self.itemsize = (n,) * ndim, ndim, itemsize
        self.flags = SimpleNamespace(c_contiguous=contiguous)
        self.data = SimpleNamespace(ptr=ptr)


@pytest.fixture
def fake_cupy(monkeypatch):
    monkeypatch.setattr(kc, "_cupy_ndarray", FakeArray)


def _direct(layout):
    launched = []

    def core_launch(stream, config, function, *params):
        launched.append((stream, config, function, params))

    def config(**kwargs):
        return kwargs

    return kc.DirectLaunch("the kernel", layout, (core_launch, config, lambda s: ("core", s), "is_cooperative")), \
        launched


def _values(params):
    return [p.value if isinstance(p, ctypes._SimpleCData) else p for p in params]


def test_arrays_and_scalars_are_laid_out_as_numba_lays_them_out(fake_cupy):
    direct, launched = _direct([None, ctypes.c_int64, ctypes.c_double, ctypes.c_float, bool, None, ctypes.c_int32])
    x, out = FakeArray(37, 4, 0x1000), FakeArray(5, 8, 0x2000)
    assert direct.launch((3, 2), (32, 8), "stream", (x, 37, 1e-5, 0.5, True, out, 7))
    ((stream, config, function, params),) = launched
    assert stream == ("core", "stream") and function == "the kernel"
    assert config == {"grid": (3, 2, 1), "block": (32, 8, 1), "shmem_size": 0, "is_cooperative": False}
    assert _values(params) == [0, 0, 37, 4, 0x1000, 37, 4,  # x: meminfo, parent, size, itemsize, ptr, shape, stride
                               37, 1e-5, 0.5, True,
                               0, 0, 5, 8, 0x2000, 5, 8,  # out
                               7]
    kinds = [type(p) for p in params]
    assert kinds[7:10] == [ctypes.c_int64, ctypes.c_double, ctypes.c_float] and kinds[-1] is ctypes.c_int32
    direct.launch(3, 32, "stream", (x, 1, 2.0, 3.0, False, out, 4))  # an int grid is (g, 1, 1)
    assert launched[-1][1]["grid"] == (3, 1, 1) and launched[-1][1]["block"] == (32, 1, 1)


@pytest.mark.parametrize("bad", [FakeArray(4, 4, 8, ndim=2), FakeArray(4, 4, 8, ndim=0), FakeArray(4, 4, 8, contiguous=False),
                                 [1.0, 2.0]])
def test_an_argument_the_layout_does_not_describe_launches_nothing(fake_cupy, bad):
    direct, launched = _direct([None])
    assert direct.launch(1, 32, "stream", (bad,)) is False and launched == []


def numbas_prepare_args(ty, value, stream, retr, kernelargs):
    """numba-cuda 0.30's _Kernel._prepare_args for the types our kernels take, on the
    fake arrays here (read from its source; the GPU test compares with the real one)."""
    if isinstance(ty, types.Array):
        kernelargs += [0, 0, value.shape[0], value.itemsize, value.data.ptr, value.shape[0], value.itemsize]
    elif isinstance(ty, types.Integer):
        kernelargs.append(getattr(ctypes, f"c_{ty}")(value))
    elif ty == types.float64:
        kernelargs.append(ctypes.c_double(value))
    elif ty == types.float32:
        kernelargs.append(ctypes.c_float(value))
    elif ty == types.boolean:
        kernelargs.append(value)
    else:
        raise NotImplementedError(ty)


def _kernel_with(argument_types, debug=False, cooperative=False, prepare_args=numbas_prepare_args):
    overload = SimpleNamespace(argument_types=argument_types, debug=debug, cooperative=cooperative,
                               _codelibrary=SimpleNamespace(get_cufunc=lambda: SimpleNamespace(kernel="k")),
                               _prepare_args=prepare_args)
    return SimpleNamespace(overloads=_OneOverload(overload), typeof_pyval=lambda a: "sig")


class _OneOverload(dict):
    """A dispatcher's overloads with one entry, whatever the number of arguments."""

    def __init__(self, overload):
        super().__init__()
        self.overload = overload

    def __getitem__(self, key):
        if set(key) != {"sig"}:
            raise KeyError(key)
        return self.overload


F32 = types.Array(types.float32, 1, "C")
ALL = (F32, types.int64, types.float64, types.float32, types.boolean, types.int32)


def _all_args():
    return [FakeArray(6, 4, 0x3000), 6, 1e-5, 0.5, True, 3]


def test_the_layout_comes_from_the_compiled_kernels_argument_types(fake_cupy):
    """after_first_launch reads the overload Numba compiled for these arguments: each type
    gets its slot, and a type it cannot pass (a 2-d array, a record) leaves Numba launching."""
    direct = kc.DirectLaunch.after_first_launch(_kernel_with(ALL), _all_args(), _all_args())
    assert direct.function == "k"
    assert direct.layout == [None, ctypes.c_int64, ctypes.c_double, ctypes.c_float, bool, ctypes.c_int32]
    one = [FakeArray(6, 4, 0x3000)]
    for unsupported in (types.Array(types.float32, 2, "C"), types.Array(types.float32, 1, "A"),
                        types.complex128):
        assert kc.DirectLaunch.after_first_launch(_kernel_with((unsupported,)), one, one) is None
    assert kc.DirectLaunch.after_first_launch(_kernel_with((F32,), debug=True), one, one) is None
    assert kc.DirectLaunch.after_first_launch(_kernel_with((F32,), cooperative=True), one, one) is None
    for attribute in ("debug", "cooperative"):  # an overload that does not say: Numba's launch, to be safe
        k = _kernel_with((F32,))
        delattr(k.overloads.overload, attribute)
        assert kc.DirectLaunch.after_first_launch(k, one, one) is None
    missing = SimpleNamespace(overloads={}, typeof_pyval=lambda a: "sig")  # another numba-cuda's internals
    assert kc.DirectLaunch.after_first_launch(missing, one, one) is None


def _differs(change):
    def prepare_args(ty, value, stream, retr, kernelargs):
        before = len(kernelargs)
        numbas_prepare_args(ty, value, stream, retr, kernelargs)
        if isinstance(ty, types.Array):
            kernelargs[before:] = change(kernelargs[before:])
    return prepare_args


@pytest.mark.parametrize("prepare_args", [
    _differs(lambda fields: fields[1:]),  # no meminfo
    _differs(lambda fields: fields[:4] + [fields[4] + 8] + fields[5:]),  # another pointer
    _differs(lambda fields: fields + [0]),  # one field more
    _differs(lambda fields: [ctypes.c_int64(f) for f in fields]),  # fields as ctypes numbers
    lambda ty, value, stream, retr, kernelargs: kernelargs.append(  # a float64 passed as float32
        ctypes.c_float(value) if ty == types.float64 else None) if ty == types.float64
    else numbas_prepare_args(ty, value, stream, retr, kernelargs),
    lambda *args: (_ for _ in ()).throw(TypeError("another signature")),
], ids=["no meminfo", "pointer", "extra field", "ctypes fields", "float width", "raises"])
def test_a_numba_that_lays_arguments_out_otherwise_keeps_its_own_launch(fake_cupy, monkeypatch, prepare_args):
    """The layout is checked once against Numba's own for the first launch's arguments: any
    difference (a field more or less, another type or value) means Numba keeps launching, and
    a warning says so once (slower launches are not silent)."""
    monkeypatch.setattr(kc, "_warned_layout", False)
    with pytest.warns(RuntimeWarning, match="lays kernel arguments out otherwise"):
        assert kc.DirectLaunch.after_first_launch(_kernel_with(ALL, prepare_args=prepare_args),
                                                 _all_args(), _all_args()) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once
        assert kc.DirectLaunch.after_first_launch(_kernel_with(ALL, prepare_args=prepare_args),
                                                 _all_args(), _all_args()) is None


def test_an_empty_arrays_null_pointer_matches_numbas_none(fake_cupy):
    def prepare_args(ty, value, stream, retr, kernelargs):
        numbas_prepare_args(ty, value, stream, retr, kernelargs)
        if isinstance(ty, types.Array) and value.shape[0] == 0:
            kernelargs[-3] = None  # numba-cuda's ptr of an empty device array
    empty = [FakeArray(0, 4, 0)]
    assert kc.DirectLaunch.after_first_launch(_kernel_with((F32,), prepare_args=prepare_args), empty, empty)


def test_same_params_compares_types_of_ctypes_numbers_and_boolness():
    assert kc.same_params([0, ctypes.c_int64(3), True], [0, ctypes.c_int64(3), True])
    assert not kc.same_params([ctypes.c_int64(3)], [ctypes.c_int32(3)])
    assert not kc.same_params([ctypes.c_double(1.0)], [ctypes.c_double(2.0)])
    assert not kc.same_params([1], [True]) and not kc.same_params([1], [2]) and not kc.same_params([1], [1, 2])


def test_the_launch_counts_start_at_zero_in_a_fresh_process():
    """``launch_counts`` counts the launches since the process started, each way
    (the direct-launch test reads it to see which way a launch went)."""
    import os
    import subprocess
    import sys
    code = "from kernels.cuda import _common as kc; print(sorted(kc.launch_counts.items()))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[('direct', 0), ('numba', 0)]"


def _launch_like(kernel):  # stands for kernels.cuda._common.launch, which calls after_first_launch
    return kc.DirectLaunch.after_first_launch(kernel, _all_args(), _all_args())


def _kernel_module_like(kernel):  # stands for a kernel module's function, which calls launch
    return _launch_like(kernel)  # the line the warning names


def test_the_layout_warning_names_the_line_that_launched_the_kernel(fake_cupy, monkeypatch):
    """Raised three calls down (launch -> after_first_launch -> the warning), the
    warning is attributed to the kernel module's line that called launch."""
    import inspect
    monkeypatch.setattr(kc, "_warned_layout", False)
    kernel = _kernel_with(ALL, prepare_args=lambda *args: (_ for _ in ()).throw(TypeError("another signature")))
    with pytest.warns(RuntimeWarning, match="lays kernel arguments out otherwise") as caught:
        _kernel_module_like(kernel)
    lines, first = inspect.getsourcelines(_kernel_module_like)
    expected = first + next(i for i, line in enumerate(lines) if "the line the warning names" in line)
    assert (caught[0].filename, caught[0].lineno) == (__file__, expected)
