"""PyTorch's splitting, joining and repeating ops: chunk, split, tensor_split,
narrow, unbind, movedim, hstack and its kin, atleast_nd, tile, repeat,
repeat_interleave, unflatten, broadcast_to/tensors/shapes, meshgrid and
cartesian_prod. Each is a composition of slicing, reshape, permute, expand and
cat, so gradients, double backward and every device come with them.

The pieces of chunk, split, tensor_split, narrow and unbind are views of the
input, as in PyTorch (slices: an in-place write through one reaches the input).
"""
import itertools
import math
import numbers

from ..arguments import iterable_arg, tensor_arg
from ..device import Size
from ..tensor_base import TensorBase, new_tensor
from .convert import Clone
from .gather_scatter import index_select
from .index_args import broadcast_shape, dim_arg, ints_arg
from .movement import join, permute, reshape, shape_arg, stack


def _int_arg(who, name, value, low=None):
    if isinstance(value, TensorBase) and value.ndim == 0 and value.dtype.kind in "iu":
        value = int(value.item())
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__} {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{who}: {name} must be >= {low}, got {value}")
    return int(value)


def _slice_at(t, dim, start, stop):
    return t[(slice(None),) * dim + (slice(start, stop),)]


# ------------------------------------------------------------------ splitting

def narrow(t, dim, start, length):
    """The view of ``length`` elements of t from ``start`` along ``dim`` (start may
    count from the end), as torch.narrow."""
    who = "narrow"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise RuntimeError(f"{who}: cannot narrow a 0-d tensor; expected at least 1 dim")
    dim = dim_arg(who, t, dim)
    n = t.shape[dim]
    start, length = _int_arg(who, "start", start), _int_arg(who, "length", length, 0)
    if not -n <= start <= n:
        raise IndexError(f"{who}: start {start} is out of range for dim {dim} of size {n}; expected [-{n}, {n}]")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"{who}: start ({start}) + length ({length}) exceeds dim {dim} of size {n}")
    return _slice_at(t, dim, start, start + length)


def split(t, split_size_or_sections, dim=0):
    """t cut along ``dim`` into pieces of ``split_size`` (the last may be smaller)
    or of the given sizes (which must sum to the dim's size), as torch.split."""
    who = "split"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise RuntimeError(f"{who}: cannot split a 0-d tensor; expected at least 1 dim")
    dim = dim_arg(who, t, dim)
    n = t.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [_int_arg(who, "a split size", s, 0) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(f"{who}: split sizes {sizes} sum to {sum(sizes)}, expected the size of dim {dim} ({n})")
    else:
        size = _int_arg(who, "split_size", split_size_or_sections, 0)
        if size == 0 and n:
            raise RuntimeError(f"{who}: split_size 0 cannot split dim {dim} of size {n}; expected a positive size")
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    bounds = [0]
    for s in sizes:
        bounds.append(bounds[-1] + s)
    return tuple(_slice_at(t, dim, lo, hi) for lo, hi in itertools.pairwise(bounds))


def chunk(t, chunks, dim=0):
    """t cut along ``dim`` into at most ``chunks`` pieces of ceil(size / chunks)
    elements (the last may be smaller, and there may be fewer), as torch.chunk."""
    who = "chunk"
    tensor_arg(who, t)
    chunks = _int_arg(who, "chunks", chunks, 1)
    if t.ndim == 0:
        raise RuntimeError(f"{who}: cannot chunk a 0-d tensor; expected at least 1 dim")
    n = t.shape[dim_arg(who, t, dim)]
    if n == 0:
        return tuple(_slice_at(t, dim_arg(who, t, dim), 0, 0) for _ in range(chunks))
    return split(t, math.ceil(n / chunks), dim)


def tensor_split(t, indices_or_sections, dim):
    """t cut along ``dim`` into ``sections`` nearly equal pieces (the first ones one
    longer) or at the given indices, as torch.tensor_split (NumPy's array_split)."""
    who = "tensor_split"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise RuntimeError(f"{who}: cannot split a 0-d tensor; expected at least 1 dim")
    dim = dim_arg(who, t, dim)
    n = t.shape[dim]
    spec = indices_or_sections
    if isinstance(spec, TensorBase):
        if spec.dtype.kind not in "iu" or spec.ndim > 1:
            raise TypeError(f"{who}: a tensor of indices_or_sections must be 0-d or 1-d int64, got "
                            f"{spec.ndim}-d {spec.dtype}")
        spec = spec.item() if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, (list, tuple)):
        cuts = [_int_arg(who, "an index", i) for i in spec]
        cuts = [min(max(c + n if c < 0 else c, 0), n) for c in cuts]
        bounds = [0] + cuts + [n]
        return tuple(_slice_at(t, dim, lo, max(lo, hi)) for lo, hi in itertools.pairwise(bounds))
    sections = _int_arg(who, "sections", spec, 1)
    q, r = divmod(n, sections)
    sizes = [q + 1] * r + [q] * (sections - r)
    bounds = [0]
    for s in sizes:
        bounds.append(bounds[-1] + s)
    return tuple(_slice_at(t, dim, lo, hi) for lo, hi in itertools.pairwise(bounds))


def _split_along(who, t, spec, dim, min_dims):
    """tensor_split along ``dim`` for hsplit/vsplit/dsplit: a number of sections must divide the dim."""
    tensor_arg(who, t)
    if t.ndim < min_dims:
        raise RuntimeError(f"{who}: expected a tensor of at least {min_dims} dims, got {t.ndim} (shape {t.shape})")
    if isinstance(spec, bool) or not isinstance(spec, (int, list, tuple, TensorBase)):
        raise TypeError(f"{who}: indices_or_sections must be an int or a list of ints, got {type(spec).__name__}")
    if isinstance(spec, int) and not isinstance(spec, bool) and (spec <= 0 or t.shape[dim] % spec):
        raise RuntimeError(f"{who}: {spec} sections do not divide dim {dim} of size {t.shape[dim]} evenly")
    return tensor_split(t, spec, dim)


def hsplit(t, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for a 1-d tensor); sections must divide it, as torch.hsplit."""
    return _split_along("hsplit", t, indices_or_sections, 1 if getattr(t, "ndim", 0) > 1 else 0, 1)


def vsplit(t, indices_or_sections):
    """tensor_split along dim 0 of a tensor of at least 2 dims; sections must divide it, as torch.vsplit."""
    return _split_along("vsplit", t, indices_or_sections, 0, 2)


def dsplit(t, indices_or_sections):
    """tensor_split along dim 2 of a tensor of at least 3 dims; sections must divide it, as torch.dsplit."""
    return _split_along("dsplit", t, indices_or_sections, 2, 3)


def narrow_copy(t, dim, start, length):
    """narrow, as a copy, as torch.narrow_copy."""
    return Clone.apply(narrow(t, dim, start, length))


def unbind(t, dim):
    """The slices of t along ``dim`` (views, without that dim), as torch.unbind."""
    tensor_arg("unbind", t)
    if t.ndim == 0:
        raise IndexError("unbind: cannot unbind a 0-d tensor; expected at least 1 dim")  # IndexError as PyTorch
    dim = dim_arg("unbind", t, dim)
    return tuple(t[(slice(None),) * dim + (i,)] for i in range(t.shape[dim]))


# ------------------------------------------------------------------ moving dims

def movedim(t, source, destination):
    """t with dims ``source`` moved to positions ``destination`` (the others keep
    their order), a view, as torch.movedim."""
    who = "movedim"
    tensor_arg(who, t)
    src, dst = ints_arg(who, "source", source), ints_arg(who, "destination", destination)
    if len(src) != len(dst):
        raise RuntimeError(f"{who}: source and destination must name as many dims, got {len(src)} and {len(dst)}")
    src = [dim_arg(who, t, d) for d in src]
    dst = [dim_arg(who, t, d) for d in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{who}: {name} names a dim twice: {dims}")
    if t.ndim == 0:  # dim 0 or -1 to dim 0 or -1: nothing moves, as PyTorch
        return t
    order = [None] * t.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(t.ndim) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return permute(t, order)


def swapaxes(t, axis0, axis1):
    """t with two dims exchanged (a view), as torch.swapaxes (= transpose)."""
    tensor_arg("swapaxes", t)
    a, b = dim_arg("swapaxes", t, axis0), dim_arg("swapaxes", t, axis1)
    return t.transpose(a, b)


def unflatten(t, dim, sizes):
    """t with dim ``dim`` split into ``sizes`` (one may be -1), as torch.unflatten."""
    who = "unflatten"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise RuntimeError(f"{who}: cannot unflatten a 0-d tensor; expected at least 1 dim")
    dim = dim_arg(who, t, dim)
    if not isinstance(sizes, (list, tuple, Size)):  # PyTorch takes no bare int here (view does)
        raise TypeError(f"{who}: sizes must be a tuple or list of ints, got {type(sizes).__name__} ({sizes!r}); "
                        f"for one size write ({sizes!r},)")
    sizes = shape_arg(tuple(sizes), who)
    if not sizes:
        raise RuntimeError(f"{who}: sizes must be non-empty")
    n = t.shape[dim]
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes) or \
            (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"{who}: sizes {sizes} do not multiply to the size of dim {dim} ({n})")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return reshape(t, t.shape[:dim] + sizes + t.shape[dim + 1:], who)


# ------------------------------------------------------------------ atleast_nd and stacking

def _tensors_arg(who, tensors):
    """The tensors of a call ``f(a, b)`` or ``f([a, b])``, and whether one bare tensor was passed."""
    if len(tensors) == 1 and isinstance(tensors[0], TensorBase):
        return list(tensors), True
    if len(tensors) == 1 and not isinstance(tensors[0], TensorBase):
        tensors = iterable_arg(who, "tensors", tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, TensorBase):
            raise TypeError(f"{who}: element {i} is a {type(t).__name__}, expected a Tensor")
    return list(tensors), False


def _atleast(who, tensors, shape_of):
    ts, single = _tensors_arg(who, tensors)
    out = [t if len(shape_of(t.shape)) == t.ndim else t.reshape(*shape_of(t.shape)) for t in ts]
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (a 0-d one becomes shape (1,)), as torch.atleast_1d."""
    return _atleast("atleast_1d", tensors, lambda s: s or (1,))


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims ((n,) becomes (1, n)), as torch.atleast_2d."""
    return _atleast("atleast_2d", tensors, lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims ((n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)), as torch.atleast_3d."""
    def shape(s):
        return {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)
    return _atleast("atleast_3d", tensors, shape)


def _stack_args(who, tensors):
    if isinstance(tensors, TensorBase):
        raise TypeError(f"{who}: expected a sequence of tensors, got a Tensor; pass a list, e.g. {who}([a, b])")
    ts = iterable_arg(who, "tensors", tensors)
    for i, t in enumerate(ts):
        if not isinstance(t, TensorBase):
            raise TypeError(f"{who}: element {i} is a {type(t).__name__}, expected a Tensor")
    if not ts:
        raise RuntimeError(f"{who}: expected a non-empty sequence of tensors")
    return ts


def hstack(tensors):
    """Tensors joined column-wise: along dim 0 when all are 1-d, else dim 1, as torch.hstack."""
    ts = [atleast_1d(t) for t in _stack_args("hstack", tensors)]
    return join("hstack", ts, 0 if all(t.ndim == 1 for t in ts) else 1)


def vstack(tensors):
    """Tensors joined row-wise (each made at least 2-d), as torch.vstack (row_stack)."""
    return join("vstack", [atleast_2d(t) for t in _stack_args("vstack", tensors)], 0)


def dstack(tensors):
    """Tensors joined depth-wise, along dim 2 (each made at least 3-d), as torch.dstack."""
    return join("dstack", [atleast_3d(t) for t in _stack_args("dstack", tensors)], 2)


def column_stack(tensors):
    """Tensors joined as columns: 0-d and 1-d ones become columns, as torch.column_stack."""
    ts = _stack_args("column_stack", tensors)
    return join("column_stack", [t.reshape(-1, 1) if t.ndim <= 1 else t for t in ts], 1)


# ------------------------------------------------------------------ repeating

def repeat(t, *sizes):
    """t repeated ``sizes[i]`` times along each dim (leading new dims when there are
    more sizes than dims), a copy, as Tensor.repeat."""
    who = "repeat"
    sizes = shape_arg(sizes, who)
    if len(sizes) < t.ndim:
        raise RuntimeError(f"{who}: expected at least as many repeats as the tensor has dims ({t.ndim}), "
                           f"got {len(sizes)} ({sizes}); use tile for fewer")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"{who}: repeats must be >= 0, got {sizes}")
    shape = (1,) * (len(sizes) - t.ndim) + t.shape
    paired = tuple(n for s in shape for n in (1, s))
    grown = tuple(n for r, s in zip(sizes, shape) for n in (r, s))
    out = t.reshape(*paired).expand(*grown).reshape(*(r * s for r, s in zip(sizes, shape)))
    if t._backend.shares_memory(out._data, t._data):  # repeats of 1 (or of size-1 dims) leave a view
        out = Clone.apply(out)
    return out


def tile(t, dims):
    """t repeated ``dims[i]`` times along each dim (dims padded with leading 1s), as torch.tile."""
    tensor_arg("tile", t)
    dims = shape_arg(tuple(dims) if isinstance(dims, (list, tuple)) else (dims,), "tile")
    return repeat(t, *((1,) * (t.ndim - len(dims)) + dims))


def repeat_interleave(t, repeats, dim, *, output_size):
    """Each element (or slice along ``dim``; over the flattened tensor when dim is
    None) repeated ``repeats`` times in place, as torch.repeat_interleave. A tensor
    of repeats is read on the host (the result's size depends on it)."""
    who = "repeat_interleave"
    tensor_arg(who, t)
    if dim is None:
        t, dim = t.reshape(-1), 0
    dim = dim_arg(who, t, dim)
    if t.ndim == 0:  # dim 0 or -1 of a 0-d tensor: its one element, as a 1-element dim (PyTorch raises)
        t = t.reshape(1)
    n = t.shape[dim]
    be = t._backend
    if isinstance(repeats, TensorBase):
        if repeats.dtype.kind not in "iu" or repeats.ndim > 1:
            raise TypeError(f"{who}: repeats must be an int or a 0-d or 1-d integer tensor, got "
                            f"{repeats.ndim}-d {repeats.dtype}")
        counts = [int(c) for c in be.to_numpy(repeats._data).reshape(-1)] if repeats.ndim else [repeats.item()] * n
        if len(counts) != n:
            raise RuntimeError(f"{who}: expected {n} repeats (the size of dim {dim}), got {len(counts)}")
    else:
        counts = [_int_arg(who, "repeats", repeats, 0)] * n
    if any(c < 0 for c in counts):
        raise RuntimeError(f"{who}: repeats must be >= 0, got {min(counts)}")
    positions = [i for i, c in enumerate(counts) for _ in range(c)]
    if output_size is not None and output_size != len(positions):
        raise RuntimeError(f"{who}: output_size {output_size} does not match the repeated size {len(positions)}")
    return index_select(t, dim, new_tensor(positions, dtype="int64", device=t.device))


# ------------------------------------------------------------------ broadcasting and grids

def broadcast_shapes(*shapes):
    """The shape that tensors of these shapes broadcast to (a Size), as torch.broadcast_shapes."""
    norm = []
    for s in shapes:  # a shape, or one int for a 1-d shape
        norm.append(shape_arg((tuple(s),) if isinstance(s, (list, tuple, Size)) else (s,), "broadcast_shapes"))
    for s in norm:
        if any(n < 0 for n in s):
            raise RuntimeError(f"broadcast_shapes: sizes must be >= 0, got {s}")
    return Size(broadcast_shape("broadcast_shapes", *norm))


def broadcast_to(t, shape):
    """t expanded to ``shape`` (a view; -1 keeps a size), as torch.broadcast_to."""
    tensor_arg("broadcast_to", t)
    return t.expand(*shape_arg(tuple(shape) if isinstance(shape, (list, tuple, Size)) else (shape,),
                               "broadcast_to"))


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views), as torch.broadcast_tensors."""
    ts, _ = _tensors_arg("broadcast_tensors", tensors)
    shape = broadcast_shape("broadcast_tensors", *(t.shape for t in ts))
    return tuple(t if t.shape == shape else t.expand(*shape) for t in ts)


def meshgrid(*tensors, indexing=None):
    """Grids from 0-d or 1-d tensors: with ``indexing="ij"`` (the default, as in
    PyTorch) output i varies along dim i; with "xy" the first two dims swap, as
    torch.meshgrid. The grids are expanded views."""
    who = "meshgrid"
    ts, _ = _tensors_arg(who, tensors)
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"{who}: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not ts:
        raise RuntimeError(f"{who}: expected at least one tensor")
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise RuntimeError(f"{who}: expected 0-d or 1-d tensors, got tensor {i} of shape {t.shape}")
        if t.dtype != ts[0].dtype or t._backend is not ts[0]._backend:
            raise RuntimeError(f"{who}: expected tensors of one dtype and device, got {ts[0].dtype} on "
                               f"{ts[0].device} and {t.dtype} on {t.device} (tensor {i})")
    sizes = [t.numel() for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(ts):
        axis = {0: 1, 1: 0}.get(i, i) if swap else i
        view = [1] * len(ts)
        view[axis] = t.numel()
        grids.append(t.reshape(*view).expand(*sizes))
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of the elements of 1-d tensors, one per row (a 1-d tensor
    given alone comes back as it is), as torch.cartesian_prod."""
    ts, _ = _tensors_arg("cartesian_prod", tensors)
    for i, t in enumerate(ts):
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expected 1-d tensors, got tensor {i} of shape {t.shape}")
    if len(ts) == 1:
        return ts[0]
    return stack([g.reshape(-1) for g in meshgrid(*ts, indexing="ij")], 1)
