"""Hypothesis strategies for tensors and normalization inputs.

    from hypothesis import given
    from tinygrad_bn.testing import strategies as tst

    @given(tst.tensors(shape=tst.shapes(max_dims=3)))
    def test_my_op(x): ...

Needs the ``test`` extra (``pip install tinygrad-bn[test]``).
"""
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

SCALES = ("well", "bad", "any")


def shapes(min_dims=1, max_dims=4, min_side=1, max_side=6):
    """Array shapes with ``min_dims``..``max_dims`` dims of ``min_side``..``max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=1, max_side=5):
    """A tuple of ``num_shapes`` shapes that broadcast together (NumPy rules)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=max_side).map(lambda r: r.input_shapes)


@st.composite
def arrays(draw, dtype=np.float64, shape=None, elements=None, scale="well"):
    """Float arrays. ``elements`` (a strategy) overrides the values; otherwise
    ``scale`` picks them: "well" is values in [-2, 2], "bad" is values riding
    on a large offset (+-1e3 or +-1e4) with a spread of 1e-2 to 10, so the offset
    dominates (the data that breaks naive float32 statistics), "any" draws either."""
    if scale not in SCALES:
        raise ValueError(f"arrays: scale must be one of {SCALES}, got {scale!r}")
    dtype = np.dtype(dtype)
    shape = draw(shapes()) if shape is None else (draw(shape) if isinstance(shape, st.SearchStrategy) else tuple(shape))
    if elements is not None:
        return draw(hnp.arrays(dtype, shape, elements=elements))
    unit = draw(hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, allow_nan=False, width=64)))
    if scale == "any":
        scale = draw(st.sampled_from(("well", "bad")))
    if scale == "well":
        return unit.astype(dtype)
    offset = draw(st.sampled_from((1e4, -1e4, 1e3, -1e3)))
    spread = draw(st.sampled_from((1e-2, 1.0, 10.0)))
    return (offset + spread * unit).astype(dtype)


@st.composite
def tensors(draw, dtype=np.float64, shape=None, elements=None, scale="well", requires_grad=True):
    """Tensors built from ``arrays(...)``; leaves that require grad by default."""
    return Tensor(draw(arrays(dtype, shape, elements, scale)), requires_grad=requires_grad)


@dataclass
class NormCase:
    """One drawn normalization problem. ``x`` is the input array; ``weight`` and
    ``bias`` are arrays or None; ``params`` holds eps and the kind's own
    arguments (``num_groups``, ``normalized_shape``, ``momentum``).
    ``group_axes`` are the axes one normalized group spans, ``group_shape``
    reshapes x so each group is one slice along ``group_axes``."""

    kind: str
    x: np.ndarray
    weight: object
    bias: object
    params: dict = field(default_factory=dict)

    def grouped(self, a):
        """``a`` (shaped like x) reshaped so that normalized groups lie along
        the returned axes: returns (reshaped, axes)."""
        if self.kind == "batch":
            return a, (0,) + tuple(range(2, a.ndim))
        if self.kind == "layer":
            nd = len(self.params["normalized_shape"])
            return a, tuple(range(a.ndim - nd, a.ndim))
        groups = self.params["num_groups"] if self.kind == "group" else a.shape[1]
        return a.reshape(a.shape[0], groups, -1), (2,)

    def call(self, x, weight=None, bias=None):
        """Apply the functional form of this normalization to tensors."""
        from ..nn import functional as F

        p = self.params
        if self.kind == "batch":
            return F.batch_norm(x, None, None, weight, bias, training=True, eps=p["eps"])
        if self.kind == "layer":
            return F.layer_norm(x, p["normalized_shape"], weight, bias, p["eps"])
        if self.kind == "group":
            return F.group_norm(x, p["num_groups"], weight, bias, p["eps"])
        return F.instance_norm(x, weight=weight, bias=bias, eps=p["eps"])


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def normalization_inputs(draw, kind, dtype=np.float64, scale="any", affine=None, max_side=5):
    """A valid input for ``kind`` ("batch", "layer", "group" or "instance") with
    its parameters. The batch has at least 2 values per normalized group, and
    every group's variance is bounded away from zero: values alternate around
    their group's centre by at least half the spread, whatever Hypothesis draws."""
    if kind not in ("batch", "layer", "group", "instance"):
        raise ValueError(f"normalization_inputs: kind must be batch, layer, group or instance, got {kind!r}")
    min_dims = 3 if kind == "instance" else 2
    ndim = draw(st.integers(min_dims, 4))
    shape = list(draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=max_side)))
    if kind == "batch":
        shape[0] = max(shape[0], 2)
    if kind == "instance":
        shape[2] = max(shape[2], 2)
    params = {"eps": draw(st.sampled_from((1e-5, 1e-3)))}
    if kind == "group":
        params["num_groups"] = draw(st.sampled_from(_divisors(shape[1])))
    if kind == "layer":
        nd = draw(st.integers(1, ndim - 1))
        params["normalized_shape"] = tuple(shape[ndim - nd:])
    if kind == "group":  # groups of one channel with L = 1 would hold one value
        if shape[1] // params["num_groups"] * int(np.prod(shape[2:])) < 2:
            shape.append(2)
    if kind == "layer" and int(np.prod(params["normalized_shape"])) < 2:
        shape[-1] = 2
        params["normalized_shape"] = tuple(shape[len(shape) - len(params["normalized_shape"]):])
    shape = tuple(shape)
    case = NormCase(kind, np.empty(shape), None, None, params)
    noise = draw(arrays(np.float64, shape, scale="well")) * 0.25
    # a +-1 pattern along each group's flattened elements keeps its variance >= ~0.5
    grouped, axes = case.grouped(np.empty(shape))
    pattern = np.ones(grouped.shape)
    idx = np.indices(tuple(grouped.shape[a] for a in axes)).reshape(len(axes), -1)
    flat = np.ravel_multi_index(idx, tuple(grouped.shape[a] for a in axes))
    sign = np.where(flat % 2 == 0, 1.0, -1.0).reshape(tuple(grouped.shape[a] for a in axes))
    expand = [None] * grouped.ndim
    for k, a in enumerate(axes):
        expand[a] = slice(None)
    pattern = pattern * sign[tuple(expand)]
    unit = pattern.reshape(shape) + noise
    if scale == "any":
        scale = draw(st.sampled_from(("well", "bad")))
    if scale == "bad":
        unit = draw(st.sampled_from((1e4, -1e3, 300.0))) + draw(st.sampled_from((1e-1, 1.0, 10.0))) * unit
    case.x = unit.astype(dtype)
    if affine is None:
        affine = draw(st.booleans())
    if affine:
        pshape = params["normalized_shape"] if kind == "layer" else (shape[1],)
        case.weight = draw(hnp.arrays(np.float64, pshape, elements=st.floats(-2, 2, allow_nan=False))).astype(dtype)
        case.bias = draw(hnp.arrays(np.float64, pshape, elements=st.floats(-2, 2, allow_nan=False))).astype(dtype)
    return case
