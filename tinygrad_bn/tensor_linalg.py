"""Tensor methods and free functions for PyTorch's products and "other
operations" on 1-3-d tensors: bmm, mv, addmm and its kin, matrix_power,
tensordot, cross, cov, corrcoef, renorm, the trapezoid rule, gradient, vander,
block_diag, combinations and isin.

All are compositions of recorded ops (matmul, sums, slices, cat), so each has a
backward and a double backward on every device.
"""
import itertools
import numbers

from .arguments import accepts_axis, number_arg, tensor_arg
from .dtypes import int64, is_float
from .grad_mode import no_grad
from .ops import elementwise as E
from .ops.reduce import normalize_axis
from .promotion import result_type
from .tensor_base import TensorBase, make_tensor


def _dims(who, t, *ndims):
    if t.ndim not in ndims:
        want = " or ".join(f"{n}-d" for n in ndims)
        raise RuntimeError(f"{who}: expected a {want} tensor, got {t.ndim}-d (shape {t.shape})")


def _scaled_sum(who, base, product, beta, alpha):
    """beta * base + alpha * product; base is ignored when beta is 0 (its NaN too), as PyTorch."""
    number_arg(who, "beta", beta)
    number_arg(who, "alpha", alpha)
    shape = tuple(product.shape)  # (self may have fewer dims, not more: PyTorch expands it to the product)
    if len(base.shape) > len(shape) or any(b not in (1, p) for b, p in zip(reversed(base.shape), reversed(shape))):
        raise RuntimeError(f"{who}: self of shape {tuple(base.shape)} does not broadcast to the product's shape "
                           f"{shape}; expected a shape that does (sizes equal or 1, from the right)")
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    return out + (base if beta == 1 else base * beta)


class LinalgMethods:
    __slots__ = ()

    def bmm(self, mat2):
        """Batched matrix product of (b, n, m) and (b, m, p) tensors."""
        tensor_arg("bmm", mat2, "mat2")
        _dims("bmm", self, 3)
        _dims("bmm", mat2, 3)
        if self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
            raise RuntimeError(f"bmm: expected shapes (b, n, m) and (b, m, p), got {self.shape} and {mat2.shape}")
        return self @ mat2

    def mv(self, vec):
        """Matrix times vector: (n, m) @ (m,)."""
        tensor_arg("mv", vec, "vec")
        _dims("mv", self, 2)
        _dims("mv", vec, 1)
        if self.shape[1] != vec.shape[0]:
            raise RuntimeError(f"mv: the matrix has {self.shape[1]} columns (shape {self.shape}) but the vector "
                               f"{vec.shape[0]} elements; expected them equal")
        return self @ vec

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """beta * self + alpha * (mat1 @ mat2)."""
        for name, m in (("mat1", mat1), ("mat2", mat2)):  # checked here, so the errors name addmm, not mm
            tensor_arg("addmm", m, name)
            _dims("addmm", m, 2)
        return _scaled_sum("addmm", self, mat1.mm(mat2), beta, alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        """beta * self + alpha * (mat @ vec)."""
        for name, m, ndim in (("mat", mat, 2), ("vec", vec, 1)):
            tensor_arg("addmv", m, name)
            _dims("addmv", m, ndim)
        return _scaled_sum("addmv", self, mat.mv(vec), beta, alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        """beta * self + alpha * outer(vec1, vec2)."""
        for name, v in (("vec1", vec1), ("vec2", vec2)):
            tensor_arg("addr", v, name)
            _dims("addr", v, 1)
        return _scaled_sum("addr", self, vec1.unsqueeze(1) * vec2.unsqueeze(0), beta, alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta * self + alpha * bmm(batch1, batch2)."""
        for name, b in (("batch1", batch1), ("batch2", batch2)):
            tensor_arg("baddbmm", b, name)
            _dims("baddbmm", b, 3)
        return _scaled_sum("baddbmm", self, batch1.bmm(batch2), beta, alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta * self + alpha * sum over the batch of batch1[i] @ batch2[i]."""
        for name, b in (("batch1", batch1), ("batch2", batch2)):
            tensor_arg("addbmm", b, name)
            _dims("addbmm", b, 3)
        return _scaled_sum("addbmm", self, batch1.bmm(batch2).sum(0), beta, alpha)

    def matrix_power(self, n):
        """The square matrix (or batch of them) to the n-th power, n >= 0, by repeated squaring."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"matrix_power: n must be an int, got {type(n).__name__} {n!r}")
        if n < 0:
            raise ValueError(f"matrix_power: n must be >= 0, got {n}; a negative power needs a matrix inverse, "
                             "which tinygrad_bn does not have")
        if self.ndim < 2 or self.shape[-1] != self.shape[-2]:
            raise RuntimeError(f"matrix_power: expected square matrices (..., n, n), got shape {self.shape}")
        result, base = None, self
        while True:
            if n & 1:
                result = base if result is None else result @ base
            n >>= 1
            if not n:
                break
            base = base @ base
        if result is None:  # n = 0: the identity, a constant
            eye = make_tensor(self._backend.zeros(self.shape, self.dtype), self._backend)
            k = list(range(self.shape[-1]))
            eye._backend.setitem(eye._data, (..., k, k), 1)
            return eye
        return result

    def cross(self, other, dim=None):
        """The cross product of 3-vectors along ``dim`` (the first dim of size 3 when None)."""
        tensor_arg("cross", other, "other")
        if dim is None:
            dim = next((i for i, n in enumerate(self.shape) if n == 3), None)
            if dim is None:
                raise RuntimeError(f"cross: no dimension of size 3 in shape {self.shape}; expected 3-vectors")
        (d,) = normalize_axis(dim, self.ndim, "cross")
        if self.shape[d] != 3 or other.shape[d] != 3:
            raise RuntimeError(f"cross: dim {dim} must have size 3 in both tensors, got {self.shape} and {other.shape}")
        a = [self.narrow(d, i, 1) for i in range(3)]
        b = [other.narrow(d, i, 1) for i in range(3)]
        from .ops.movement import cat
        return cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        """The covariance matrix of the variables in the rows (observations in the columns), as ``torch.cov``."""
        _dims("cov", self, 1, 2)
        x = self if self.ndim == 2 else self.unsqueeze(0)
        if not is_float(x.dtype):
            x = x.float()
        n = x.shape[1]
        weights = None
        for name, w in (("fweights", fweights), ("aweights", aweights)):
            if w is not None:
                tensor_arg("cov", w, name)
                if w.shape != (n,):
                    raise RuntimeError(f"cov: {name} must have shape ({n},) (one weight per observation), got {w.shape}")
                weights = w.to(x.dtype) if weights is None else weights * w.to(x.dtype)
        if weights is None:
            total = float(n)
            mean = x.mean(1, keepdim=True)
            centered = x - mean
            denominator = total - correction
            out = (centered @ centered.t()) / denominator
        else:
            total = weights.sum()
            mean = (x * weights).sum(1, keepdim=True) / total
            centered = x - mean
            if correction == 0:
                denominator = total
            elif aweights is None:
                denominator = total - correction
            else:
                denominator = total - correction * (weights * aweights.to(x.dtype)).sum() / total
            out = ((centered * weights) @ centered.t()) / denominator
        return out if self.ndim == 2 else out.reshape(())

    def corrcoef(self):
        """Pearson correlation coefficients of the variables in the rows, clipped to [-1, 1]."""
        c = self.cov()
        if c.ndim == 0:
            return c / c
        d = c.diagonal().sqrt()
        return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)

    def renorm(self, p, dim, maxnorm):
        """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to norm maxnorm
        (p > 0, inf included; 2 or more dims, as PyTorch's)."""
        number_arg("renorm", "p", p, 0.0, low_open=True, finite=False)
        if p != p:
            raise ValueError("renorm: p must be a number > 0.0 (inf included), got nan")
        number_arg("renorm", "maxnorm", maxnorm, 0.0)
        if self.ndim < 2:
            raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {self.ndim} (shape {self.shape}); "
                               "each slice along dim is a row of the others")
        (d,) = normalize_axis(dim, self.ndim, "renorm")
        others = tuple(i for i in range(self.ndim) if i != d)
        def slice_norms(t):
            return t.norm(p, others, keepdim=True) if others else t.abs()
        with no_grad():
            over = slice_norms(self.detach()) > maxnorm
        # The norm is differentiated through where it scales, as PyTorch's renorm backward. The
        # slices left as they are take their norm of ones instead (its gradient is dropped), so that
        # a zero slice's p-norm backward (NaN for some p) never meets their zero gradient.
        norms = slice_norms(E.where(over, self, 1.0))
        return self * E.where(over, maxnorm / (norms + 1e-7), 1.0)

    def renorm_(self, p, dim, maxnorm):
        with no_grad():
            values = self.renorm(p, dim, maxnorm)._data
        return self._inplace("renorm_", lambda t: t.renorm(p, dim, maxnorm), "copyto", values)

    def unfold(self, dimension, size, step):
        """The windows of ``size`` elements every ``step`` along ``dimension``: that dim becomes
        the window count and a last dim of ``size`` is added, as ``Tensor.unfold`` (a copy here)."""
        axes = normalize_axis(dimension, self.ndim, "unfold")  # () for a 0-d tensor, with dim 0 or -1
        # A 0-d tensor unfolds as one element along dim 0, into ``size`` (0 or 1) values.
        x = self.reshape(1) if self.ndim == 0 else self
        d = axes[0] if axes else 0
        n = x.shape[d]
        for name, v in (("size", size), ("step", step)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < (0 if name == "size" else 1):
                raise ValueError(f"unfold: {name} must be an int >= {0 if name == 'size' else 1}, got {v!r}")
        if size > n:
            raise RuntimeError(f"unfold: size {size} is larger than dim {dimension}'s {n} elements")
        if self.ndim == 0:
            return x[:size]
        count = (n - size) // step + 1
        # windows[w, k] is the index of element k of window w; an int array with its shape
        # given, so that windows of size 0 index as ints too
        windows = x._backend.asarray([w * step + k for w in range(count) for k in range(size)],
                                     dtype=int64).reshape(count, size)
        return x.movedim(d, -1)[..., windows].movedim(-2, d)

    def ravel(self):
        """The elements as a 1-d tensor (a view when possible)."""
        return self.reshape(-1)


@accepts_axis
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of ``y`` along ``dim`` by the trapezoid rule, with sample points ``x``
    (a tensor) or spacing ``dx`` (1 by default), as ``torch.trapezoid``."""
    tensor_arg("trapezoid", y, "y")
    (d,) = normalize_axis(dim, y.ndim, "trapezoid")
    n = y.shape[d]
    if n == 0:
        return y.sum(d)
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2
    return (mid * _spacing("trapezoid", x, dx, y, d)).sum(d)


trapz = trapezoid


@accepts_axis
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running integral of ``y`` along ``dim`` by the trapezoid rule (one fewer element)."""
    tensor_arg("cumulative_trapezoid", y, "y")
    (d,) = normalize_axis(dim, y.ndim, "cumulative_trapezoid")
    n = y.shape[d]
    if n == 0:  # no points, no intervals: empty along dim, as for one point (PyTorch's shape and dtype)
        return y.narrow(d, 0, 0) / 2
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2
    return (mid * _spacing("cumulative_trapezoid", x, dx, y, d)).cumsum(d)


def _spacing(who, x, dx, y, d):
    if x is not None and dx is not None:
        raise TypeError(f"{who}: pass x or dx, not both")
    if x is None:
        if dx is None:
            return 1.0
        number_arg(who, "dx", dx)
        return dx
    tensor_arg(who, x, "x")
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise RuntimeError(f"{who}: x has {x.shape[0]} points but y has {y.shape[d]} along dim {d}; expected "
                               "them equal")
        steps = x[1:] - x[:-1]
        return steps.reshape(*(steps.shape[0] if i == d else 1 for i in range(y.ndim)))
    if x.shape != y.shape:
        raise RuntimeError(f"{who}: x must be 1-d or have y's shape {y.shape}, got {x.shape}")
    n = y.shape[d]
    return x.narrow(d, 1, n - 1) - x.narrow(d, 0, n - 1)


@accepts_axis
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimates of the derivative along each of ``dim`` (all dims when None) by central
    differences inside and one-sided differences at the edges, as ``torch.gradient``
    with uniform spacing (a number, or one number per dim). Returns a tuple."""
    tensor_arg("gradient", input)
    if edge_order != 1:
        raise ValueError(f"gradient: only edge_order=1 is supported, got {edge_order}")
    dims = normalize_axis(dim, input.ndim, "gradient")
    steps = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(steps) != len(dims):
        raise ValueError(f"gradient: expected one spacing per dim ({len(dims)}), got {len(steps)}")
    from .ops.movement import cat
    out = []
    for d, h in zip(dims, steps):
        if isinstance(h, TensorBase):
            raise TypeError("gradient: spacing as coordinate tensors is not supported; give numbers (uniform spacing)")
        number_arg("gradient", "spacing", h, 0.0)
        n = input.shape[d]
        if n < 2:
            raise RuntimeError(f"gradient: each dim needs at least 2 points (edge_order + 1), dim {d} has {n}")
        first = (input.narrow(d, 1, 1) - input.narrow(d, 0, 1)) / h
        last = (input.narrow(d, n - 1, 1) - input.narrow(d, n - 2, 1)) / h
        parts = [first]
        if n > 2:
            parts.append((input.narrow(d, 2, n - 2) - input.narrow(d, 0, n - 2)) / (2 * h))
        parts.append(last)
        out.append(cat(parts, d))
    return tuple(out)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-d ``x``: columns x^(N-1), ..., x^0 (reversed when increasing)."""
    tensor_arg("vander", x, "x")
    _dims("vander", x, 1)
    n = x.shape[0] if N is None else N
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"vander: N must be an int >= 0, got {N!r}")
    powers = range(n) if increasing else range(n - 1, -1, -1)
    from .ops.movement import stack
    if not is_float(x.dtype):  # integer and bool columns are int64, as PyTorch's
        x = x.to(int64)
    if n == 0:
        return make_tensor(x._backend.zeros((x.shape[0], 0), x.dtype), x._backend)
    return stack([x ** p if p else x * 0 + 1 for p in powers], 1)


def block_diag(*tensors):
    """The block-diagonal matrix of the given 0-2-d tensors (zeros elsewhere)."""
    from .ops.movement import cat
    blocks = []
    for i, t in enumerate(tensors):
        tensor_arg("block_diag", t, f"tensor {i}")
        if t.ndim > 2:
            raise RuntimeError(f"block_diag: expected 0-2-d tensors, tensor {i} is {t.ndim}-d")
        blocks.append(t.reshape(1, 1) if t.ndim == 0 else t.unsqueeze(0) if t.ndim == 1 else t)
    if not blocks:
        from .creation import zeros
        return zeros(1, 0)
    dtype = result_type(*tensors)  # PyTorch's type promotion (a 0-d block ranks below the others, as there)
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        be = b._backend
        pad_left = make_tensor(be.zeros((b.shape[0], left), dtype), be)
        pad_right = make_tensor(be.zeros((b.shape[0], width - left - b.shape[1]), dtype), be)
        rows.append(cat([pad_left, b.to(dtype), pad_right], 1))
        left += b.shape[1]
    return cat(rows, 0)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-d tensor's elements, as rows (``itertools.combinations``)."""
    tensor_arg("combinations", input)
    _dims("combinations", input, 1)
    if isinstance(r, bool) or not isinstance(r, numbers.Integral) or r < 0:
        raise ValueError(f"combinations: r must be an int >= 0, got {r!r}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = list(pick(range(input.shape[0]), r))
    if not index or r == 0:
        return make_tensor(input._backend.zeros((0,) if r == 0 else (0, r), input.dtype), input._backend)
    return input[[list(c) for c in zip(*index)]].t() if r > 1 else input[[c[0] for c in index]]


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element is among ``test_elements`` (a tensor or a number), as bools."""
    del assume_unique  # a hint for PyTorch's algorithm choice; the result is the same
    for name, value in (("elements", elements), ("test_elements", test_elements)):
        if not isinstance(value, (TensorBase, numbers.Number)) or isinstance(value, complex):
            raise TypeError(f"isin: {name} must be a tensor or a number, got {type(value).__name__}; make a "
                            "tensor with tinygrad_bn.tensor(...) first")
    if not isinstance(elements, TensorBase):
        tensor_arg("isin", test_elements, "test_elements (with elements a number)")
        elements = make_tensor(test_elements._backend.asarray(elements), test_elements._backend)
    with no_grad():
        flat = elements.detach().reshape(-1, 1)
        tests = test_elements.detach().reshape(1, -1) if isinstance(test_elements, TensorBase) else test_elements
        found = (flat == tests).to(int64).sum(1) > 0
        found = found.reshape(*elements.shape)
    return ~found if invert else found


def is_tensor(obj):
    """Whether obj is a tinygrad_bn tensor."""
    return isinstance(obj, TensorBase)


def is_nonzero(input):
    """Whether a one-element tensor is non-zero (a bool), as ``torch.is_nonzero``."""
    tensor_arg("is_nonzero", input)
    if input.numel() != 1:
        raise RuntimeError(f"is_nonzero: expected a tensor with one element, got shape {input.shape} "
                           f"({input.numel()} elements)")
    return bool(input.item() != 0)


FUNCTIONS = ("trapezoid", "trapz", "cumulative_trapezoid", "gradient", "vander", "block_diag", "combinations", "isin",
             "is_tensor", "is_nonzero")
METHODS = ("bmm", "mv", "addmm", "addmv", "addr", "baddbmm", "addbmm", "matrix_power", "cross", "cov", "corrcoef",
           "renorm", "ravel")
# (unfold is a method only: torch.unfold is not a function)
"""Free functions that are the methods of the same name (``tg.bmm(a, b)``)."""
