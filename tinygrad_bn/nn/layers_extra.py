"""Bilinear, Unflatten, CosineSimilarity, PairwiseDistance and AlphaDropout, named as in ``torch.nn``."""
import math
import numbers

from ..arguments import number_arg, tensor_arg
from ..creation import zeros
from ..dtypes import as_dtype, is_float
from ..ops.reduce import normalize_axis
from . import activation_functional as AF
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["AlphaDropout", "Bilinear", "CosineSimilarity", "PairwiseDistance", "Unflatten"]


class AlphaDropout(Module):
    """Dropout for SELU networks (``F.alpha_dropout``) in training mode; identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        from .functional import check_dropout_p
        check_dropout_p(p, "AlphaDropout")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        from .functional_misc import alpha_dropout
        return alpha_dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Bilinear(Module):
    """y = x1^T A x2 + b: input1 (*, in1_features), input2 (*, in2_features), output
    (*, out_features); weight (out_features, in1_features, in2_features). Initialised
    as in PyTorch: weight and bias uniform on (-1/sqrt(in1_features), 1/sqrt(in1_features))."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        who = "Bilinear"
        for name, v in (("in1_features", in1_features), ("in2_features", in2_features),
                        ("out_features", out_features)):
            number_arg(who, name, v, 1, integer=True)
        if dtype is not None and not is_float(as_dtype(dtype, who)):
            raise TypeError(f"{who}: dtype must be a floating point type, got {as_dtype(dtype)}")
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        device = device or "cpu"
        self.weight = Parameter(zeros(out_features, in1_features, in2_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(zeros(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in1_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return AF.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Unflatten(Module):
    """Splits dimension ``dim`` into ``unflattened_size`` (a tuple or list of ints; one may be -1)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        who = "Unflatten"
        self.dim = number_arg(who, "dim", dim, integer=True)
        if isinstance(unflattened_size, (str, bytes)) or not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"{who}: unflattened_size must be a tuple or list of ints, got "
                            f"{type(unflattened_size).__name__} {unflattened_size!r}")
        for s in unflattened_size:
            if isinstance(s, bool) or not isinstance(s, numbers.Integral):
                raise TypeError(f"{who}: unflattened_size must hold ints, got {s!r} in {unflattened_size!r}")
        if sum(1 for s in unflattened_size if s == -1) > 1 or any(s < -1 for s in unflattened_size):
            raise ValueError(f"{who}: unflattened_size takes sizes >= 0 and at most one -1, got {unflattened_size!r}")
        self.unflattened_size = unflattened_size

    def forward(self, input):
        who = "Unflatten"
        tensor_arg(who, input)
        d = normalize_axis(self.dim, input.ndim, who)[0] if input.ndim else None
        if d is None:
            raise ValueError(f"{who}: got a 0-dim input; there is no dimension {self.dim} to unflatten")
        sizes = tuple(int(s) for s in self.unflattened_size)
        n = input.shape[d]
        known = math.prod(s for s in sizes if s != -1)
        fits = (n % known == 0) if -1 in sizes and known else (known == n)
        if not fits:
            raise ValueError(f"{who}: sizes {sizes} don't multiply up to the size {n} of dim {self.dim} "
                             f"of input shape {input.shape}")
        return input.reshape(input.shape[:d] + sizes + input.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class CosineSimilarity(Module):
    """Cosine similarity of x1 and x2 along ``dim`` (norms clamped at ``eps``)."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = number_arg("CosineSimilarity", "dim", dim, integer=True)
        self.eps = number_arg("CosineSimilarity", "eps", eps, 0.0)

    def forward(self, x1, x2):
        return AF.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dimension."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = AF._p_arg("PairwiseDistance", p)
        self.eps = number_arg("PairwiseDistance", "eps", eps)
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return AF.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
