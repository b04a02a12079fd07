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
