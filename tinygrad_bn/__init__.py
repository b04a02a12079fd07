"""tinygrad_bn: a small autograd framework whose normalization kernels are Numba code.

    import tinygrad_bn as tg
    x = tg.randn(64, 784)
    model = tg.nn.Sequential(tg.nn.Linear(784, 10))
    loss = tg.nn.CrossEntropyLoss()(model(x), tg.tensor([...]))
    loss.backward()
"""
import math
import warnings

# IEEE results (log(0) = -inf, 0/0 = nan, exp(1000) = inf) come back silently, as in PyTorch:
# NumPy's floating-point warnings are ignored when our own modules' NumPy calls raise them
# (the user's own NumPy code still warns)
warnings.filterwarnings("ignore", message=r"(divide by zero|invalid value|overflow) encountered",
                        category=RuntimeWarning, module=r"(tinygrad_bn|kernels)(\.|$)")

from .threads import get_num_threads, set_num_threads
from .dtypes import (bool_, dtype, finfo, float16, float32, float64, get_default_dtype, iinfo, int8, int16, int32,
                     int64, set_default_dtype, uint8)
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled
from .function import Function
from .engine_grad import grad
from .tensor import Tensor
from .creation import (arange, empty, from_numpy, full, full_like, ones, ones_like, rand, rand_like, randn,
                       randn_like, tensor, zeros, zeros_like)
from .creation import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
                       LongTensor, ShortTensor)
from .device import Size, device
from .ops.elementwise import maximum, minimum, where
from .functions import *  # noqa: F401,F403  (tg.mean, tg.matmul, ...: PyTorch's free functions)
from .functions import METHOD_FUNCTIONS
from .functions import __all__ as _FUNCTION_NAMES
from .ops.movement import cat, stack
from .random import Generator, default_generator, manual_seed
from .creation import (as_tensor, asarray, empty_like, eye, linspace, logspace, randint, randint_like,
                       randperm)
from .creation import inclusive_range as range  # noqa: A004  (torch.range, deprecated there too)
from .random import get_rng_state, initial_seed, seed, set_rng_state
from .sampling import bernoulli, multinomial, normal, poisson
from .serialization import load, save
from .tape import Tape, plot_grad_flow
from .tensor import set_printoptions
from .tensor_linalg import (block_diag, combinations, cumulative_trapezoid, gradient, is_nonzero, is_tensor, isin,
                            trapezoid, trapz, vander)
from .anomaly import AnomalyError, detect_anomaly
from .compiled import compile  # noqa: A004  (torch.compile's name; builtins.compile stays reachable there)
from . import nn, optim, data, cuda, utils, autograd, distributions  # noqa: E402  (submodules that use the names above)

half = float16
short = int16
inf = math.inf
nan = math.nan
pi = math.pi
e = math.e
newaxis = None
double = float64
long = int64
# PyTorch's short names; builtins are shadowed only as attributes of this package
float = float32  # noqa: A001
int = int32  # noqa: A001
bool = bool_  # noqa: A001



def get_default_device():
    """The device factories use when given none: always the CPU here (tinygrad_bn keeps no
    global default device; pass device= to a factory or call .to(device))."""
    return device("cpu")


__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "Function", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "zeros", "ones", "full", "empty", "rand", "randn", "arange",
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "from_numpy", "cat", "stack",
    "where", "maximum", "minimum", "manual_seed", "default_generator", "save", "load",
    "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_",
    "nn", "optim", "data", "cuda", "utils", "autograd", "distributions", "set_num_threads", "get_num_threads", "Tape", "plot_grad_flow", "detect_anomaly", "AnomalyError",
    "matmul", "allclose", "equal", *_FUNCTION_NAMES, "as_tensor", "asarray", "empty_like", "eye", "linspace",
    "logspace", "randint", "randint_like", "randperm", "get_rng_state", "initial_seed", "seed", "set_rng_state",
    "bernoulli", "multinomial", "normal", "poisson", "Generator", "polygamma", "real", "device", "Size",
    "half", "double", "long", "float", "int", "bool", "short", "inf", "nan", "pi", "e", "newaxis", "dtype",
    "finfo", "iinfo", "get_default_dtype", "set_default_dtype", "get_default_device", "inference_mode",
    "is_inference_mode_enabled", "set_printoptions", "block_diag", "combinations", "cumulative_trapezoid",
    "gradient", "is_nonzero", "is_tensor", "isin", "trapezoid", "trapz", "vander", "range",
]
__all__ = list(dict.fromkeys(__all__))  # each name once (the function lists overlap the ones above)
