"""Activation functions, distances and small helpers with ``torch.nn.functional``'s
signatures, defaults and values (at the kinks too: the gradient there is PyTorch's).

Each is a composition of recorded tensor ops, so backward, double backward and
every device come with the ops. Branches that could overflow where they are not
taken are computed on clamped inputs, so that no inf reaches a backward as
0 * inf. ``inplace=True`` (and the ``name_`` forms) overwrite the input and
return it, recorded on the tape as the out-of-place op, as in PyTorch.
"""
import math
import numbers
import warnings

from ..arguments import accepts_axis, devices_differ, float_tensor_arg, number_arg, tensor_arg
from ..creation import arange
from ..dtypes import as_dtype, is_float
from ..grad_mode import no_grad
from ..ops.elementwise import where
from ..ops.reduce import normalize_axis
from ..tensor_base import array_of, backend_of, make_tensor, new_tensor, same_device

__all__ = [
    "bilinear", "celu", "celu_", "cosine_similarity", "elu", "elu_", "glu", "hardshrink", "hardsigmoid",
    "hardswish", "hardtanh", "hardtanh_", "leaky_relu_", "logsigmoid", "mish", "normalize", "one_hot",
    "pairwise_distance", "pdist", "prelu", "relu6", "relu_", "rrelu", "rrelu_", "selu", "selu_", "silu",
    "softmin", "softplus", "softshrink", "softsign", "tanhshrink", "threshold", "threshold_",
]

# SELU's constants, as PyTorch (Klambauer et al., 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _in_place(who, input, fn):
    """``fn(input)`` written into ``input``, which is returned; on the tape (when
    grad is recorded) as ``fn`` of the input's old value. A leaf that requires
    grad is refused, as in PyTorch."""
    with no_grad():
        values = array_of(fn(input))
    return input._inplace(who, fn, "copyto", values)


def _run(who, input, inplace, fn):
    return _in_place(f"{who}_", input, fn) if inplace else fn(input)


def _elu_form(x, alpha, scale=1.0, input_scale=1.0):
    """PyTorch's ELU kernel: x * scale where x > 0, else alpha * scale * (exp(x * input_scale) - 1).
    The exponential sees min(x, 0) only, so it cannot overflow in the branch not taken."""
    neg = x.clamp(max=0.0)
    if input_scale != 1.0:
        neg = neg * input_scale
    neg = neg.expm1() * (alpha * scale)
    return where(x > 0, x * scale if scale != 1.0 else x, neg)


# ---------------------------------------------------------------- ELU family

def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1); the gradient at 0 is alpha (PyTorch's)."""
    float_tensor_arg("elu", input)
    number_arg("elu", "alpha", alpha)
    return _run("elu", input, inplace, lambda x: _elu_form(x, alpha))


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with SELU's fixed alpha = 1.6733 and scale = 1.0507."""
    float_tensor_arg("selu", input)
    return _run("selu", input, inplace, lambda x: _elu_form(x, SELU_ALPHA, SELU_SCALE))


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x / alpha) - 1); alpha must not be 0."""
    float_tensor_arg("celu", input)
    number_arg("celu", "alpha", alpha)
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (the input is divided by it); PyTorch refuses it too")
    return _run("celu", input, inplace, lambda x: _elu_form(x, alpha, 1.0, 1.0 / alpha))


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


# ---------------------------------------------------------------- smooth activations

def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    float_tensor_arg("silu", input)
    return _run("silu", input, inplace, lambda x: x * x.sigmoid())


def _softplus1(x):
    """log(1 + exp(x)) without overflow: logaddexp(x, 0)."""
    return x.logaddexp(0.0)


def mish(input, inplace=False):
    """x * tanh(softplus(x)), softplus taken in its stable form."""
    float_tensor_arg("mish", input)
    return _run("mish", input, inplace, lambda x: x * _softplus1(x).tanh())


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (PyTorch's rule).
    The log term is computed as logaddexp(beta * x, 0), which never overflows."""
    who = "softplus"
    float_tensor_arg(who, input)
    number_arg(who, "beta", beta)
    number_arg(who, "threshold", threshold, finite=False)
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero (the result is divided by it), got 0")
    scaled = input * beta if beta != 1 else input
    soft = _softplus1(scaled)
    if beta != 1:
        soft = soft / beta
    return where(scaled > threshold, input, soft)


def softsign(input):
    """x / (1 + |x|)."""
    float_tensor_arg("softsign", input)
    return input / (input.abs() + 1.0)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), in a form that neither overflows nor loses the tail."""
    float_tensor_arg("logsigmoid", input)
    return -_softplus1(-input)


def tanhshrink(input):
    """x - tanh(x)."""
    float_tensor_arg("tanhshrink", input)
    return input - input.tanh()


# ---------------------------------------------------------------- piecewise linear

def _hardtanh_form(x, min_val, max_val):
    # min_val where x <= min_val, max_val where x >= max_val: the gradient is 0 at
    # both bounds, as PyTorch's hardtanh_backward (a clamp would pass it there)
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; gradient 1 strictly inside, 0 at and beyond the bounds."""
    who = "hardtanh"
    float_tensor_arg(who, input)
    number_arg(who, "min_val", min_val, finite=False)
    number_arg(who, "max_val", max_val, finite=False)
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val} "
                         f"and max_val={max_val}")
    return _run(who, input, inplace, lambda x: _hardtanh_form(x, min_val, max_val))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6), with its gradients (0 at 0 and at 6)."""
    float_tensor_arg("relu6", input)
    return _run("relu6", input, inplace, lambda x: _hardtanh_form(x, 0.0, 6.0))


def hardsigmoid(input, inplace=False):
    """0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between (gradient 1/6 strictly inside)."""
    float_tensor_arg("hardsigmoid", input)
    return _run("hardsigmoid", input, inplace,
                lambda x: where(x <= -3.0, 0.0, where(x >= 3.0, 1.0, x / 6.0 + 0.5)))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6; the gradient is PyTorch's: 0 up to -3, x / 3 + 1/2 between, 1 from 3 on."""
    float_tensor_arg("hardswish", input)
    return _run("hardswish", input, inplace,
                lambda x: where(x <= -3.0, 0.0, where(x < 3.0, x * (x + 3.0) / 6.0, x)))


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (lambd >= 0); NaN stays NaN."""
    who = "softshrink"
    float_tensor_arg(who, input)
    number_arg(who, "lambd", lambd, 0.0)
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, input * 0.0))


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0 (0 on the closed interval [-lambd, lambd])."""
    who = "hardshrink"
    float_tensor_arg(who, input)
    number_arg(who, "lambd", lambd)
    return where((input >= -lambd) & (input <= lambd), 0.0, input)


def _threshold(input, bound, value, inplace):
    who = "threshold"
    float_tensor_arg(who, input)
    number_arg(who, "threshold", bound, finite=False)
    number_arg(who, "value", value, finite=False)
    return _run(who, input, inplace, lambda x: where(x <= bound, value, x))


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def relu_(input):
    """relu in place: max(input, 0) written into input, which is returned."""
    tensor_arg("relu_", input)
    return input.relu_()


def leaky_relu_(input, negative_slope=0.01):
    tensor_arg("leaky_relu_", input)
    number_arg("leaky_relu_", "negative_slope", negative_slope)
    return input.leaky_relu_(negative_slope)


# ---------------------------------------------------------------- with a parameter or a dim

def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of the input along ``dim``."""
    who = "glu"
    float_tensor_arg(who, input)
    number_arg(who, "dim", dim, integer=True)
    if input.ndim == 0:
        raise ValueError("glu: got a 0-dim input; glu halves a dimension, so the input needs at least one")
    d = normalize_axis(dim, input.ndim, who)[0]
    if input.shape[d] % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} is size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


def softmax_dim_and_input(who, input, dim, dtype, stacklevel):
    """The dim a softmax-like op runs along and its input cast to ``dtype``. dim=None is
    PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-dim inputs, else 1), with its
    warning ``stacklevel`` frames up from the op (3 from a function, 5 from a module)."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
        warnings.warn(f"{who}: implicit dimension choice is deprecated (as in PyTorch); pass dim=X. "
                      f"Using dim={dim}", UserWarning, stacklevel=stacklevel)
    number_arg(who, "dim", dim, integer=True)
    if dtype is not None:
        dtype = as_dtype(dtype, who)
        if not is_float(dtype):
            raise TypeError(f"{who}: dtype must be a floating point type, got {dtype}")
        input = input.to(dtype)
    return dim, input


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``. With dim=None, PyTorch's deprecated implicit choice
    (0 for 0-, 1- and 3-dim inputs, else 1) with a warning. ``dtype`` casts the input first."""
    float_tensor_arg("softmin", input)
    dim, input = softmax_dim_and_input("softmin", input, dim, dtype, _stacklevel)
    return (-input).softmax(dim)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), ``weight`` one slope (numel 1) or one per
    channel (dim 1 of the input). The gradient at 0 is the slope (PyTorch's)."""
    who = "prelu"
    float_tensor_arg(who, input)
    float_tensor_arg(who, weight, "weight")
    if weight.ndim > 1:
        raise ValueError(f"prelu: expected weight to be a scalar or 1-d tensor, got ndim = {weight.ndim}")
    if not same_device(weight, input):
        raise devices_differ(who, input.device, weight.device, "the input and the weight")
    n = weight.numel()
    if n != 1:
        if input.ndim == 0:
            raise ValueError(f"prelu: a 0-dim input takes a single slope, got a weight of {n}")
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != n:
            raise ValueError(f"prelu: mismatch of parameter numbers and input channel size: found {n} "
                             f"parameters and channel size {channels} (dim 1 of input shape {input.shape})")
        w = weight.reshape((1, n) + (1,) * (input.ndim - 2))
    else:
        w = weight.reshape(())
    return where(input > 0, input, w * input)


def _check_rrelu_bounds(who, lower, upper):
    number_arg(who, "lower", lower)
    number_arg(who, "upper", upper)
    if lower > upper:
        raise ValueError(f"{who}: lower bound should be less than or equal to the upper bound, "
                         f"got lower={lower} and upper={upper}")


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU. Training: each element <= 0 is multiplied by a slope drawn
    uniform on [lower, upper) from the input's device generator; otherwise the mean
    slope (lower + upper) / 2 (leaky_relu). As in PyTorch, ``training`` defaults to False."""
    who = "rrelu"
    float_tensor_arg(who, input)
    _check_rrelu_bounds(who, lower, upper)
    if not training:
        slope = (lower + upper) / 2
        return input.leaky_relu_(slope) if inplace else input.leaky_relu(slope)
    be = backend_of(input)
    noise = make_tensor(be.uniform(lower, upper, input.shape, input.dtype), be)
    return _run(who, input, inplace, lambda x: where(x > 0, x, x * noise))


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# ---------------------------------------------------------------- distances and helpers

def _broadcast(who, a, b, names=("x1", "x2")):
    """The shape ``a`` and ``b`` broadcast to, or a ValueError naming both."""
    out = []
    for i in range(1, max(a.ndim, b.ndim) + 1):
        m = a.shape[-i] if i <= a.ndim else 1
        n = b.shape[-i] if i <= b.ndim else 1
        if m != n and 1 not in (m, n):
            raise ValueError(f"{who}: {names[0]} of shape {a.shape} and {names[1]} of shape {b.shape} do not "
                             "broadcast together")
        out.append(n if m == 1 else m)
    return tuple(reversed(out))


def _same_device(who, a, b, names):
    if not same_device(a, b):
        raise devices_differ(who, a.device, b.device, f"{names[0]} and {names[1]}")


def _p_arg(who, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or math.isnan(p):
        raise TypeError(f"{who}: p must be a number, got {type(p).__name__} {p!r}")
    return p


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along ``dim``."""
    who = "normalize"
    float_tensor_arg(who, input)
    _p_arg(who, p)
    number_arg(who, "dim", dim, integer=True)
    number_arg(who, "eps", eps, 0.0)
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the returned tensor")
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def _norm_without_clamp_grad(n, eps):
    """max(n, eps) in value, n in gradient: PyTorch clamps cosine_similarity's norms under no_grad."""
    return n + (n.clamp(min=eps) - n).detach()


@accepts_axis
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along ``dim``, after
    broadcasting x1 and x2 (PyTorch's form: each is divided by its norm first, so the
    result stays in [-1, 1]; the clamps pass the gradient as if absent, as PyTorch's)."""
    who = "cosine_similarity"
    float_tensor_arg(who, x1, "x1")
    float_tensor_arg(who, x2, "x2")
    _same_device(who, x1, x2, ("x1", "x2"))
    number_arg(who, "dim", dim, integer=True)
    number_arg(who, "eps", eps, 0.0)
    shape = _broadcast(who, x1, x2)
    d = normalize_axis(dim, len(shape), who)[0]
    if x1.shape != shape:
        x1 = x1.expand(*shape)
    if x2.shape != shape:
        x2 = x2.expand(*shape)
    n1 = _norm_without_clamp_grad(x1.norm(2, d, keepdim=True), eps)
    n2 = _norm_without_clamp_grad(x2.norm(2, d, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension (PyTorch adds eps to the difference)."""
    who = "pairwise_distance"
    float_tensor_arg(who, x1, "x1")
    float_tensor_arg(who, x2, "x2")
    _same_device(who, x1, x2, ("x1", "x2"))
    _p_arg(who, p)
    number_arg(who, "eps", eps, finite=False)
    shape = _broadcast(who, x1, x2)
    if not shape:
        raise ValueError("pairwise_distance: x1 and x2 are 0-dim; expected vectors (..., D)")
    return (x1 - x2 + eps).norm(p, -1, keepdim=bool(keepdim))


def pdist(input, p=2):
    """The p-norm distances between the rows of a 2-d input (N, M): the N(N-1)/2
    pairs i < j in row-major order, as ``torch.pdist``."""
    who = "pdist"
    float_tensor_arg(who, input)
    _p_arg(who, p)
    if p < 0:
        raise ValueError(f"pdist: only non-negative p values are supported, got {p}")
    if input.ndim != 2:
        raise ValueError(f"pdist: only supports 2-d tensors (N, M), got {input.ndim}-d input of shape {input.shape}")
    n = input.shape[0]
    rows = [i for i in range(n) for _ in range(i + 1, n)]
    cols = [j for i in range(n) for j in range(i + 1, n)]
    rows = new_tensor(rows, dtype="int64", device=input.device)
    cols = new_tensor(cols, dtype="int64", device=input.device)
    return (input[rows] - input[cols]).norm(p, 1)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding: shape ``tensor.shape + (num_classes,)``; with
    ``num_classes=-1`` the number of classes is ``tensor.max() + 1``. No gradient."""
    who = "one_hot"
    tensor_arg(who, tensor, "tensor")
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype {tensor.dtype}; "
                        "convert it with .long()")
    number_arg(who, "num_classes", num_classes, -1, integer=True)
    if tensor.numel() == 0:
        if num_classes == -1:
            raise ValueError("one_hot: can not infer the number of classes from an empty tensor; pass num_classes")
    else:
        low, high = int(tensor.min().item()), int(tensor.max().item())
        if low < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {low}")
        if num_classes == -1:
            num_classes = high + 1
        elif high >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {high}")
    classes = arange(num_classes, device=tensor.device)
    return (tensor.detach().unsqueeze(-1) == classes).long()


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    who = "bilinear"
    float_tensor_arg(who, input1, "input1")
    float_tensor_arg(who, input2, "input2")
    float_tensor_arg(who, weight, "weight")
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be 3-d (out_features, in1_features, in2_features), "
                         f"got shape {weight.shape}")
    out_f, in1, in2 = weight.shape
    if input1.ndim != input2.ndim or input1.ndim < 1:
        raise ValueError(f"bilinear: input1 and input2 must have the same number of dims (at least 1), got "
                         f"shapes {input1.shape} and {input2.shape}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"bilinear: input batch dimensions do not match: got {input1.shape[:-1]} and "
                         f"{input2.shape[:-1]}")
    if input1.shape[-1] != in1:
        raise ValueError(f"bilinear: input1 has {input1.shape[-1]} features but the weight expects {in1} "
                         f"(weight shape {weight.shape})")
    if input2.shape[-1] != in2:
        raise ValueError(f"bilinear: input2 has {input2.shape[-1]} features but the weight expects {in2} "
                         f"(weight shape {weight.shape})")
    if bias is not None:
        float_tensor_arg(who, bias, "bias")
        if bias.shape != (out_f,):
            raise ValueError(f"bilinear: bias must have shape ({out_f},), got {bias.shape}")
    for name, t in (("input2", input2), ("weight", weight), ("bias", bias)):
        if t is not None:
            _same_device(who, input1, t, ("input1", name))
    # (..., in1) @ (in1, out * in2) -> (..., out, in2), then contract with input2
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    left = (input1 @ w).reshape(input1.shape[:-1] + (out_f, in2))
    out = (left * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out
