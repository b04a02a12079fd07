"""The direct kernel launch's argument layout (kernels/cuda/_common.py,
DirectLaunch), without a GPU: the launch itself needs one
(tests/kernels/test_cuda_direct_launch.py runs every kernel both ways on the
card), but what it hands cuda.core can be checked anywhere, against the layout
Numba's own launch builds (numba-cuda's ``_Kernel._prepare_args``: an array is
meminfo, parent, size, itemsize, pointer, shape, strides; an integer its ctypes
type, a float64 a c_double, a float32 a c_float, a bool itself)."""
import ctypes
from types import SimpleNamespace

import pytest

pytest.importorskip("numba.cuda")
from numba.core import types  # noqa: E402

from kernels.cuda import _common as kc  # noqa: E402


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


@pytest.mark.parametrize("bad", [FakeArray(4, 4, 8, ndim=2), FakeArray(4, 4, 8, contiguous=False), [1.0, 2.0]])
def test_an_argument_the_layout_does_not_describe_launches_nothing(fake_cupy, bad):
    direct, launched = _direct([None])
    assert direct.launch(1, 32, "stream", (bad,)) is False and launched == []


def test_the_layout_comes_from_the_compiled_kernels_argument_types(monkeypatch):
    """after_first_launch reads the overload Numba compiled for these arguments: each type
    gets its slot, and a type it cannot pass (a 2-d array, a record) leaves Numba launching."""
    def kernel_with(argument_types, debug=False, cooperative=False):
        overload = SimpleNamespace(argument_types=argument_types, debug=debug, cooperative=cooperative,
                                   _codelibrary=SimpleNamespace(get_cufunc=lambda: SimpleNamespace(kernel="k")))
        return SimpleNamespace(overloads={("sig",): overload}, typeof_pyval=lambda a: "sig")

    f32 = types.Array(types.float32, 1, "C")
    direct = kc.DirectLaunch.after_first_launch(
        kernel_with((f32, types.int64, types.float64, types.float32, types.boolean, types.int32)), ["x"])
    assert direct.function == "k"
    assert direct.layout == [None, ctypes.c_int64, ctypes.c_double, ctypes.c_float, bool, ctypes.c_int32]
    for unsupported in (types.Array(types.float32, 2, "C"), types.Array(types.float32, 1, "A"),
                        types.complex128):
        assert kc.DirectLaunch.after_first_launch(kernel_with((unsupported,)), ["x"]) is None
    assert kc.DirectLaunch.after_first_launch(kernel_with((f32,), debug=True), ["x"]) is None
    assert kc.DirectLaunch.after_first_launch(kernel_with((f32,), cooperative=True), ["x"]) is None
    for attribute in ("debug", "cooperative"):  # an overload that does not say: Numba's launch, to be safe
        k = kernel_with((f32,))
        delattr(k.overloads[("sig",)], attribute)
        assert kc.DirectLaunch.after_first_launch(k, ["x"]) is None
    missing = SimpleNamespace(overloads={}, typeof_pyval=lambda a: "sig")  # another numba-cuda's internals
    assert kc.DirectLaunch.after_first_launch(missing, ["x"]) is None
