"""``pad``, ``alpha_dropout`` and ``gumbel_softmax`` with ``torch.nn.functional``'s
signatures: compositions of recorded ops (slices, index gathers, cat), so each
has a backward on every device."""
import math
import numbers

from ..arguments import number_arg, tensor_arg
from ..creation import full
from ..ops.movement import cat
from ..ops.reduce import normalize_axis
from ..tensor_base import backend_of, make_tensor

__all__ = ["pad", "alpha_dropout", "gumbel_softmax"]

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right)`` for the last dim, then
    (left, right) for the one before, ..., as ``F.pad``. Modes: "constant" (``value``,
    0 by default), "reflect" (mirror without the edge), "replicate" (repeat the edge),
    "circular" (wrap around); in every mode negative pads crop, first."""
    who = "pad"
    tensor_arg(who, input)
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or not all(
            isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in pad):
        raise ValueError(f"{who}: pad must be a tuple of an even number of ints (left, right, ...), got {pad!r}")
    if len(pad) // 2 > input.ndim:
        raise ValueError(f"{who}: pad has {len(pad) // 2} (left, right) pairs but the input only {input.ndim} dims "
                         f"(shape {input.shape})")
    if mode not in PAD_MODES:
        raise ValueError(f"{who}: mode must be one of {PAD_MODES}, got {mode!r}")
    if mode != "constant" and value is not None:
        raise ValueError(f"{who}: value is only for mode='constant', got value={value!r} with mode={mode!r}")
    out = input
    for k in range(len(pad) // 2):
        dim = input.ndim - 1 - k
        left, right = int(pad[2 * k]), int(pad[2 * k + 1])
        out = _pad_dim(out, dim, left, right, mode, 0.0 if value is None else value)
    return out


def _pad_dim(x, dim, left, right, mode, value):
    n = x.shape[dim]
    if mode == "constant":
        number_arg("pad", "value", value, finite=False)
    keep = n + min(left, 0) + min(right, 0)
    indexed = mode in ("reflect", "replicate")  # negative pads move where the indices below start or end
    if (keep < 0 and not indexed) or (indexed and (left < 0 or right < 0) and n + left + right <= 0):
        raise ValueError(f"pad: pads ({left}, {right}) on dim {dim} of size {n} crop more than the dim holds; "
                         "negative pads may crop at most its size" + (
                             f", and with mode={mode!r} must leave an element" if indexed else ""))
    if (left < 0 or right < 0) and not indexed:  # constant and circular: negative pads crop first, as PyTorch
        x, n = x.narrow(dim, -min(left, 0), keep), keep
        left, right = max(left, 0), max(right, 0)
    if left == right == 0:
        return x
    if mode == "constant":
        parts = []
        for width in (left, right):
            shape = list(x.shape)
            shape[dim] = width
            parts.append(full(tuple(shape), value, dtype=x.dtype, device=x.device))
        return cat([parts[0], x, parts[1]], dim)
    if n == 0:
        raise ValueError(f"pad: cannot pad an empty dim with mode={mode!r}")
    if mode == "reflect" and (left >= n or right >= n):
        raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the dim's size {n}")
    if mode == "circular" and (left > n or right > n):
        raise ValueError(f"pad: circular padding ({left}, {right}) must be at most the dim's size {n}")
    positions = range(-left, n + right)
    if mode == "reflect":
        index = [abs(i) if i < 0 else (2 * (n - 1) - i if i >= n else i) for i in positions]
    elif mode == "replicate":
        index = [min(max(i, 0), n - 1) for i in positions]
    else:
        index = [i % n for i in positions]
    return x[(slice(None),) * dim + (index,)]


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps a SELU network's mean and variance: dropped elements take
    SELU's negative saturation value, then an affine map restores the moments, as
    ``F.alpha_dropout``. The identity when not training."""
    from .functional import _floating_for_dropout, check_dropout_p  # functional imports this module: at call time
    tensor_arg("alpha_dropout", input)
    check_dropout_p(p, "alpha_dropout")
    if not training or p == 0.0:
        return input
    _floating_for_dropout("alpha_dropout", input)
    if p == 1.0:
        return input * 0.0
    saturation = -_SELU_SCALE * _SELU_ALPHA
    a = 1.0 / math.sqrt((1 - p) * (1 + p * saturation ** 2))
    b = -a * saturation * p
    be = backend_of(input)
    keep = make_tensor(be.bernoulli_mask(1.0 - p, input.shape, input.dtype), be)
    out = (input * keep + saturation * (1 - keep)) * a + b
    if inplace:
        return input.copy_(out)
    return out


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + g) / tau) with g Gumbel(0, 1) noise, as ``F.gumbel_softmax``;
    ``hard`` gives the one-hot of the largest, with the soft sample's gradient
    (straight through)."""
    del eps  # unused in PyTorch too (kept for its signature)
    tensor_arg("gumbel_softmax", logits)
    number_arg("gumbel_softmax", "tau", tau, 0.0)
    if tau == 0:
        raise ValueError("gumbel_softmax: tau must be > 0, got 0")
    (d,) = normalize_axis(dim, logits.ndim, "gumbel_softmax")
    noise = logits.detach().clone().exponential_().log().neg()  # -log(Exp(1)) is Gumbel(0, 1)
    soft = ((logits + noise) / tau).softmax(d)
    if not hard:
        return soft
    index = soft.detach().argmax(d, keepdim=True)
    one_hot = soft.detach() * 0
    one_hot = one_hot.scatter(d, index, 1.0)
    return one_hot - soft.detach() + soft
