"""How the "cuda" backend binds CuPy, checked without a GPU: CuPy is stood in for
by NumPy, and cupyx's special functions by recorders, so what the backend asks of
each (which function, with which arguments) is seen. What the functions compute
on a GPU is the GPU tests' (marker ``gpu``)."""
import sys
import types

import numpy as np
import pytest

from tinygrad_bn.backends import cuda as cuda_backend_module
from tinygrad_bn.backends.array import SPECIAL_FUNCTIONS


def _recorder(name):
    return lambda *args: (name, args)


@pytest.fixture
def backend_over_fake_cupy(monkeypatch):
    cupy = types.ModuleType("cupy")
    cupy.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    cupy.asnumpy = np.asarray
    special = types.ModuleType("cupyx.scipy.special")
    special.__getattr__ = _recorder  # every name: a function that returns (its name, its arguments)
    cupyx, scipy = types.ModuleType("cupyx"), types.ModuleType("cupyx.scipy")
    cupyx.scipy, scipy.special = scipy, special
    for name, module in (("cupy", cupy), ("cupyx", cupyx), ("cupyx.scipy", scipy), ("cupyx.scipy.special", special)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(cuda_backend_module, "_gpu_problem", lambda: None)
    monkeypatch.setattr(cuda_backend_module.kc, "simulator", lambda: False)
    return cuda_backend_module.cuda_backend("fake-cuda")


def test_the_cupy_backend_takes_each_special_function_from_cupyx_by_its_name(backend_over_fake_cupy):
    be = backend_over_fake_cupy
    assert isinstance(be, cuda_backend_module.CupyBackend) and not be.simulated
    x = np.array([0.5, 2.0])
    for fn in SPECIAL_FUNCTIONS:
        if fn == "polygamma":
            continue
        name, args = be._special(fn)(x)
        assert name == ("gammaln" if fn == "lgamma" else fn) and args == (x,), fn


def test_polygammas_order_goes_to_cupyx_as_an_array(backend_over_fake_cupy):
    # cupyx's polygamma calls cupy.where(n == 0, ...): a Python int order would fail there
    x = np.array([0.5, 2.0])
    name, (n, got) = backend_over_fake_cupy._special("polygamma")(2, x)
    assert name == "polygamma" and isinstance(n, np.ndarray) and n.shape == () and n == 2 and got is x


class _RecordingRandomState:
    """CuPy's RandomState as far as the backend uses it: each draw records the dtype
    asked for, and (as cuRAND) takes float32 or float64 only."""

    asked = []

    def __init__(self, seed):
        self.seed = seed

    def _draw(self, shape, dtype):
        assert np.dtype(dtype) in (np.float32, np.float64), dtype
        self.asked.append(np.dtype(dtype))
        return np.zeros(shape, dtype)

    def random_sample(self, shape, dtype):
        return self._draw(shape, dtype)

    def standard_normal(self, shape, dtype):
        return self._draw(shape, dtype)

    def uniform(self, low, high, shape, dtype):
        return self._draw(shape, dtype)

    def normal(self, mean, std, shape, dtype):
        return self._draw(shape, dtype)


@pytest.mark.parametrize(("dtype", "drawn"), [(np.float32, np.float32), (np.float64, np.float64),
                                              (np.float16, np.float64)])
def test_cupys_generator_draws_float32_as_float32_and_half_through_float64(backend_over_fake_cupy, monkeypatch,
                                                                           dtype, drawn):
    """cuRAND draws float32 samples directly (not float64 rounded down) and has no
    float16: those are drawn in float64 and cast. Each draw comes back in the dtype asked."""
    be = backend_over_fake_cupy
    monkeypatch.setattr(be.xp, "random", types.SimpleNamespace(RandomState=_RecordingRandomState), raising=False)
    monkeypatch.setattr(_RecordingRandomState, "asked", [])
    be.seed(3)
    outs = [be.rand((2,), dtype), be.randn((2,), dtype), be.uniform(0.0, 1.0, (2,), dtype),
            be.normal(0.0, 1.0, (2,), dtype)]
    assert _RecordingRandomState.asked == [np.dtype(drawn)] * 4
    assert [o.dtype for o in outs] == [np.dtype(dtype)] * 4
