"""tinygrad_bn: a small autograd framework whose normalization kernels are Numba code.

    import tinygrad_bn as tg
    x = tg.randn(64, 784)
    model = tg.nn.Sequential(tg.nn.Linear(784, 10))
    loss = tg.nn.CrossEntropyLoss()(model(x), tg.tensor([...]))
    loss.backward()
"""
from .threads import get_num_threads, set_num_threads
from .dtypes import bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .function import Function
from .engine import grad
from .tensor import Tensor
from .creation import (arange, empty, from_numpy, full, full_like, ones, ones_like, rand, rand_like, randn,
                       randn_like, tensor, zeros, zeros_like)
from .creation import BoolTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor
from .device import Size, device
from .ops.elementwise import maximum, minimum, where
from .functions import *  # noqa: F401,F403  (tg.mean, tg.matmul, ...: PyTorch's free functions)
from .functions import METHOD_FUNCTIONS
from .ops.movement import cat, stack
from .random import Generator, default_generator, manual_seed
from .creation import (as_tensor, asarray, empty_like, eye, linspace, logspace, randint, randint_like,
                       randperm)
from .random import get_rng_state, initial_seed, seed, set_rng_state
from .sampling import bernoulli, multinomial, normal, poisson
from .serialization import load, save
from .tape import Tape, plot_grad_flow
from .anomaly import AnomalyError, detect_anomaly
from . import nn, optim, data, cuda, utils, autograd, distributions  # noqa: E402  (submodules that use the names above)

half = float16
double = float64
long = int64
# PyTorch's short names; builtins are shadowed only as attributes of this package
float = float32  # noqa: A001
int = int32  # noqa: A001
bool = bool_  # noqa: A001

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "Function", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "zeros", "ones", "full", "empty", "rand", "randn", "arange",
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "from_numpy", "cat", "stack",
    "where", "maximum", "minimum", "manual_seed", "default_generator", "save", "load",
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_",
    "nn", "optim", "data", "cuda", "utils", "autograd", "distributions", "set_num_threads", "get_num_threads", "Tape", "plot_grad_flow", "detect_anomaly", "AnomalyError",
    "matmul", "allclose", "equal", *METHOD_FUNCTIONS, "as_tensor", "asarray", "empty_like", "eye", "linspace",
    "logspace", "randint", "randint_like", "randperm", "get_rng_state", "initial_seed", "seed", "set_rng_state",
    "bernoulli", "multinomial", "normal", "poisson", "Generator", "polygamma", "real", "device", "Size",
    "half", "double", "long", "float", "int", "bool",
]
