"""Tensor methods for PyTorch's indexing, slicing, joining and mutating ops,
sorting and selection, running ops and the "other operations" (flip, roll,
diag, einsum's kin, ...), with PyTorch's names and signatures. Each is a thin
call into ``ops.indexing``, ``ops.shaping``, ``ops.products``, ``ops.scan``,
``ops.sorting`` or, for the counting ops computed on the host, ``counting``;
``Tensor`` (tensor.py) inherits them.

``METHOD_FUNCTIONS`` names the methods PyTorch also has as ``torch.<name>(input,
...)``; ``FREE_FUNCTIONS`` the functions that are no tensor's method
(``meshgrid``, ``einsum``, ``hstack``, ...). functions.py makes both ``tg.<name>``.
"""
from . import counting
from .arguments import accepts_axis, tensor_arg, varargs_or_keyword
from .grad_mode import no_grad
from .ops import elementwise as E
from .ops import indexing as I
from .ops import products as P
from .ops import scan as C
from .ops import shaping as S
from .ops import sorting as O
from .ops.movement import cat, shape_arg
from .tensor_base import TensorBase, new_tensor


class IndexingMethods:
    __slots__ = ()

    # ------------------------------------------------------------ gather and scatter
    def gather(self, dim, index, *, sparse_grad=False):
        return I.gather(self, dim, index, sparse_grad=sparse_grad)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return I.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return I.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return I.index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return I.index_add(self, dim, index, source, alpha=alpha)

    def index_copy(self, dim, index, source):
        return I.index_copy(self, dim, index, source)

    def index_fill(self, dim, index, value):
        return I.index_fill(self, dim, index, value)

    def masked_fill(self, mask, value):
        return I.masked_fill(self, mask, value)

    def masked_select(self, mask):
        return I.masked_select(self, mask)

    def masked_scatter(self, mask, source):
        return I.masked_scatter(self, mask, source)

    def take(self, index):
        return I.take(self, index)

    def take_along_dim(self, indices, dim=None):
        return I.take_along_dim(self, indices, dim)

    def where(self, condition, other):
        """``where(condition, self, other)``, as Tensor.where."""
        tensor_arg("where", condition, "condition")
        return E.where(condition, self, other)

    def select(self, dim, index):
        return I.select(self, dim, index)

    def select_scatter(self, src, dim, index):
        return I.select_scatter(self, src, dim, index)

    def slice_scatter(self, src, dim=0, start=None, end=None, step=1):
        return I.slice_scatter(self, src, dim, start, end, step)

    def diagonal_scatter(self, src, offset=0, dim1=0, dim2=1):
        return I.diagonal_scatter(self, src, offset, dim1, dim2)

    # in place: the out-of-place op, written back (recorded as in-place ops are: tensor_inplace._inplace)
    def _op_in_place(self, name, fn, operand=None):
        with no_grad():
            values = fn(self)
        if values.shape != self.shape:
            raise RuntimeError(f"{name}: the result has shape {values.shape}, but an in-place op keeps the tensor's "
                               f"shape {self.shape}; use the out-of-place {name[:-1]}")
        tracked = operand if isinstance(operand, TensorBase) else None
        return self._inplace(name, fn, "copyto", values._data, operand=tracked)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        """scatter, in place."""
        return self._op_in_place("scatter_", lambda t: I.scatter(t, dim, index, src, value=value, reduce=reduce),
                                 src if src is not None else value)

    def scatter_add_(self, dim, index, src):
        """scatter_add, in place."""
        return self._op_in_place("scatter_add_", lambda t: I.scatter_add(t, dim, index, src), src)

    def index_add_(self, dim, index, source, *, alpha=1):
        """index_add, in place."""
        return self._op_in_place("index_add_", lambda t: I.index_add(t, dim, index, source, alpha=alpha), source)

    def index_copy_(self, dim, index, source):
        """index_copy, in place."""
        return self._op_in_place("index_copy_", lambda t: I.index_copy(t, dim, index, source), source)

    def index_fill_(self, dim, index, value):
        """index_fill, in place."""
        return self._op_in_place("index_fill_", lambda t: I.index_fill(t, dim, index, value), value)

    def masked_fill_(self, mask, value):
        """masked_fill, in place (the mask broadcasts to the tensor's shape)."""
        return self._op_in_place("masked_fill_", lambda t: I.masked_fill(t, mask, value), value)

    def masked_scatter_(self, mask, source):
        """masked_scatter, in place (the mask broadcasts to the tensor's shape)."""
        return self._op_in_place("masked_scatter_", lambda t: I.masked_scatter(t, mask, source), source)

    def cumsum_(self, dim, *, dtype=None):
        """cumsum, in place (in the tensor's dtype)."""
        return self._op_in_place("cumsum_", lambda t: C.cumsum(t, dim, dtype=dtype).to(t.dtype))

    def cumprod_(self, dim, *, dtype=None):
        """cumprod, in place (in the tensor's dtype)."""
        return self._op_in_place("cumprod_", lambda t: C.cumprod(t, dim, dtype=dtype).to(t.dtype))

    def nonzero(self, *, as_tuple=False):
        return counting.nonzero(self, as_tuple=as_tuple)

    def argwhere(self):
        return counting.argwhere(self)

    # ------------------------------------------------------------ flips and diagonals
    def flip(self, *args, dims=None):
        return I.flip(self, varargs_or_keyword("flip", "dims", args, dims))

    def fliplr(self):
        return I.fliplr(self)

    def flipud(self):
        return I.flipud(self)

    def roll(self, shifts, dims=None):
        return I.roll(self, shifts, dims)

    def rot90(self, k=1, dims=(0, 1)):
        return I.rot90(self, k, dims)

    def diag(self, diagonal=0):
        return I.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return I.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return I.diag_embed(self, offset, dim1, dim2)

    def diagflat(self, offset=0):
        return I.diagflat(self, offset)

    def trace(self):
        return I.trace(self)

    # ------------------------------------------------------------ products
    def outer(self, vec2):
        return P.outer(self, vec2)

    def inner(self, other):
        return P.inner(self, other)

    def dot(self, other):
        return P.dot(self, other)

    def vdot(self, other):
        return P.vdot(self, other)

    def kron(self, other):
        return P.kron(self, other)

    # ------------------------------------------------------------ splitting, joining, repeating
    def chunk(self, chunks, dim=0):
        return S.chunk(self, chunks, dim)

    def split(self, split_size, dim=0):
        return S.split(self, split_size, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        return S.tensor_split(self, indices_or_sections, dim)

    def narrow(self, dim, start, length):
        return S.narrow(self, dim, start, length)

    def hsplit(self, indices_or_sections):
        return S.hsplit(self, indices_or_sections)

    def vsplit(self, indices_or_sections):
        return S.vsplit(self, indices_or_sections)

    def dsplit(self, indices_or_sections):
        return S.dsplit(self, indices_or_sections)

    def narrow_copy(self, dim, start, length):
        return S.narrow_copy(self, dim, start, length)

    def unbind(self, dim=0):
        return S.unbind(self, dim)

    def movedim(self, source, destination):
        return S.movedim(self, source, destination)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return S.swapaxes(self, axis0, axis1)

    def swapdims(self, dim0, dim1):
        """swapaxes: t with two dims exchanged (a view), as torch.swapdims."""
        return S.swapaxes(self, dim0, dim1)

    def unflatten(self, dim, sizes):
        return S.unflatten(self, dim, sizes)

    def broadcast_to(self, *args, shape=None):
        return S.broadcast_to(self, shape_arg(varargs_or_keyword("broadcast_to", "shape", args, shape), "broadcast_to"))

    def repeat(self, *sizes):
        return S.repeat(self, *sizes)

    def tile(self, *args, dims=None):
        return S.tile(self, shape_arg(varargs_or_keyword("tile", "dims", args, dims), "tile"))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return S.repeat_interleave(self, repeats, dim, output_size=output_size)

    # ------------------------------------------------------------ running ops
    def cumsum(self, dim, *, dtype=None):
        return C.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return C.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return C.cummax(self, dim)

    def cummin(self, dim):
        return C.cummin(self, dim)

    def logcumsumexp(self, dim):
        return C.logcumsumexp(self, dim)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return C.diff(self, n, dim, prepend, append)

    # ------------------------------------------------------------ sorting and selection
    def sort(self, dim=-1, descending=False, *, stable=False):
        return O.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return O.argsort(self, dim, descending, stable)

    def msort(self):
        return O.msort(self)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return O.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return O.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim=False):
        return O.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return O.nanmedian(self, dim, keepdim)

    def mode(self, dim=-1, keepdim=False):
        return O.mode(self, dim, keepdim)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return O.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return O.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    # ------------------------------------------------------------ counting (on the host)
    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return counting.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return counting.unique_consecutive(self, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return counting.bincount(self, weights, minlength)

    def histc(self, bins=100, min=0, max=0):  # PyTorch's argument names (shadowing builtins)
        return counting.histc(self, bins, min, max)

    def histogram(self, bins=100, *, range=None, weight=None, density=False):
        return counting.histogram(self, bins, range=range, weight=weight, density=density)


# each method says what its op's function says (help(Tensor.sort) shows ops.sorting.sort's docstring)
for _name, _method in list(vars(IndexingMethods).items()):
    _op = next((getattr(m, _name) for m in (I, S, P, C, O, counting) if hasattr(m, _name)), None)
    if callable(_method) and not _method.__doc__ and _op is not None:
        _method.__doc__ = _op.__doc__

# torch.<name>(input, ...) == input.<name>(...)
METHOD_FUNCTIONS = (
    "gather", "scatter", "scatter_add", "index_select", "index_add", "index_copy", "index_fill", "masked_fill",
    "masked_select", "masked_scatter", "take", "take_along_dim", "nonzero", "argwhere", "flip", "fliplr", "flipud",
    "roll", "rot90", "diag", "diagonal", "diag_embed", "diagflat", "trace", "outer", "inner", "dot", "vdot", "kron",
    "chunk", "split", "tensor_split", "narrow", "unbind", "movedim", "moveaxis", "swapaxes", "swapdims", "unflatten",
    "broadcast_to", "tile", "clone", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff", "sort",
    "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile", "nanquantile", "unique",
    "unique_consecutive", "bincount", "histc", "histogram", "select", "select_scatter", "slice_scatter",
    "diagonal_scatter", "hsplit", "vsplit", "dsplit", "narrow_copy",
)


def where(condition, input=None, other=None):
    """``where(condition, input, other)``: input's elements where condition holds,
    else other's; ``where(condition)`` alone: ``nonzero(condition, as_tuple=True)``,
    as torch.where."""
    if input is None and other is None:
        tensor_arg("where", condition, "condition")
        return counting.nonzero(condition, as_tuple=True)
    if input is None or other is None:
        missing = "input" if input is None else "other"
        raise TypeError(f"where: expected where(condition) or where(condition, input, other), got {missing}=None "
                        "beside a tensor or number; pass both input and other")
    if not isinstance(condition, TensorBase):
        try:
            new_tensor(condition)
        except (TypeError, ValueError):
            raise TypeError(f"where: condition must be a bool tensor (or bools), got {type(condition).__name__}") \
                from None
    return E.where(condition, input, other)


@accepts_axis
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``repeat_interleave(input, repeats, dim)`` as the method; ``repeat_interleave(repeats)``
    alone (a 1-d integer tensor): each index i repeated repeats[i] times, as torch.repeat_interleave."""
    tensor_arg("repeat_interleave", input)
    if repeats is None:
        if input.ndim != 1 or input.dtype.kind not in "iu":
            raise TypeError(f"repeat_interleave: alone, repeats must be a 1-d integer tensor, got {input.ndim}-d "
                            f"{input.dtype}")
        positions = new_tensor(list(range(input.shape[0])), dtype="int64", device=input.device)
        return S.repeat_interleave(positions, input, 0, output_size=output_size)
    return S.repeat_interleave(input, repeats, dim, output_size=output_size)


FREE_FUNCTIONS = {
    "where": where, "repeat_interleave": repeat_interleave, "einsum": P.einsum, "cdist": P.cdist,
    "meshgrid": S.meshgrid, "cartesian_prod": S.cartesian_prod, "broadcast_tensors": S.broadcast_tensors,
    "broadcast_shapes": S.broadcast_shapes, "atleast_1d": S.atleast_1d, "atleast_2d": S.atleast_2d,
    "atleast_3d": S.atleast_3d, "hstack": S.hstack, "vstack": S.vstack, "row_stack": S.vstack,
    "column_stack": S.column_stack, "dstack": S.dstack, "searchsorted": counting.searchsorted,
    "bucketize": counting.bucketize, "tril_indices": counting.tril_indices, "triu_indices": counting.triu_indices,
    "tensordot": P.tensordot, "unravel_index": counting.unravel_index, "concat": cat, "concatenate": cat,
}
"""PyTorch's free functions of these sections that are no tensor's method (and where/repeat_interleave, which
take more forms than the method)."""
