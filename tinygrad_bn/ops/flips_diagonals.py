"""PyTorch's flips and rotations (flip, fliplr, flipud, roll, rot90) and the
diagonal family (diagonal, diag_embed, diag, diagflat, trace).
See ops/indexing.py for what all index ops share."""
from ..arguments import tensor_arg
from .convert import Clone
from .index_args import dim_arg, int_arg, ints_arg
from .movement import GetItem, ScatterAdd, cat
from .reduce import normalize_axis

# ------------------------------------------------------------------ flips and rotations

def _dims_arg(who, t, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return normalize_axis(dims, t.ndim, who) if dims else ()


def flip(t, dims):
    """A copy of t with the order of ``dims`` reversed, as torch.flip."""
    tensor_arg("flip", t)
    dims = _dims_arg("flip", t, dims)
    if not dims:
        return Clone.apply(t)
    index = tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(t.ndim))
    return Clone.apply(GetItem.apply(t, index))


def fliplr(t):
    """t with its columns (dim 1) reversed; t must have at least 2 dims, as torch.fliplr."""
    tensor_arg("fliplr", t)
    if t.ndim < 2:
        raise RuntimeError(f"fliplr: expected a tensor of at least 2 dims, got {t.ndim} (shape {t.shape})")
    return flip(t, (1,))


def flipud(t):
    """t with its rows (dim 0) reversed; t must have at least 1 dim, as torch.flipud."""
    tensor_arg("flipud", t)
    if t.ndim < 1:
        raise RuntimeError("flipud: expected a tensor of at least 1 dim, got a 0-d tensor")
    return flip(t, (0,))


def roll(t, shifts, dims):
    """t's elements shifted by ``shifts`` along ``dims`` (wrapping around; over the
    flattened tensor when dims is None), as a copy, as torch.roll."""
    who = "roll"
    tensor_arg(who, t)
    shifts = ints_arg(who, "shifts", shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"{who}: without dims, expected one shift, got {len(shifts)} ({shifts!r})")
        return roll(t.reshape(-1), shifts, 0).reshape(*t.shape)
    dims = ints_arg(who, "dims", dims)
    if len(dims) != len(shifts):
        raise RuntimeError(f"{who}: expected as many shifts as dims, got {len(shifts)} shifts and {len(dims)} dims")
    out = t
    for shift, dim in zip(shifts, dims):
        d = dim_arg(who, t, dim)
        n = (t.shape or (1,))[d]
        s = shift % n if n else 0
        if s and t.ndim:
            lead = (slice(None),) * d
            out = cat([out[lead + (slice(n - s, None),)], out[lead + (slice(0, n - s),)]], d)
    return Clone.apply(out) if out is t else out


def rot90(t, k, dims):
    """t rotated by 90 degrees k times in the plane of ``dims`` (from the first
    towards the second), as torch.rot90."""
    who = "rot90"
    tensor_arg(who, t)
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"{who}: k must be an int, got {type(k).__name__} {k!r}")
    dims = ints_arg(who, "dims", dims)
    if len(dims) != 2:
        raise RuntimeError(f"{who}: expected 2 dims, got {len(dims)} ({dims!r})")
    if t.ndim < 2:
        raise RuntimeError(f"{who}: expected a tensor of at least 2 dims, got {t.ndim} (shape {t.shape})")
    a, b = dim_arg(who, t, dims[0]), dim_arg(who, t, dims[1])
    if a == b:
        raise RuntimeError(f"{who}: expected two different dims, got {dims!r}")
    k %= 4
    if k == 0:
        return Clone.apply(t)
    if k == 2:
        return flip(t, (a, b))
    return flip(t, (b,)).transpose(a, b) if k == 1 else flip(t, (a,)).transpose(a, b)


# ------------------------------------------------------------------ diagonals

def _diagonal_positions(be, rows, cols, offset):
    """(row indices, column indices) of diagonal ``offset`` of a rows x cols matrix."""
    r0, c0 = max(-offset, 0), max(offset, 0)
    n = max(0, min(rows - r0, cols - c0))
    base = be.arange(0, n, 1, "int64")
    return be.add(base, r0), be.add(base, c0), n


def _diagonal_dims(who, t, offset, dim1, dim2):
    """(dim1, dim2, the other dims) of a diagonal op's arguments, checked."""
    tensor_arg(who, t)
    if t.ndim < 2:
        raise RuntimeError(f"{who}: expected a tensor of at least 2 dims, got {t.ndim} (shape {t.shape})")
    int_arg(who, "offset", offset)
    a, b = dim_arg(who, t, dim1), dim_arg(who, t, dim2)
    if a == b:
        raise RuntimeError(f"{who}: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return a, b, [d for d in range(t.ndim) if d not in (a, b)]


def diagonal(t, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices in dims (dim1, dim2), as the last dim,
    as torch.diagonal (a copy here; a view in PyTorch)."""
    a, b, rest = _diagonal_dims("diagonal", t, offset, dim1, dim2)
    x = t.permute(*rest, a, b)
    rows, cols, _ = _diagonal_positions(t._backend, t.shape[a], t.shape[b], offset)
    return GetItem.apply(x, (Ellipsis, rows, cols))


_diagonal = diagonal  # diag's argument is named diagonal, as PyTorch's


def diag_embed(t, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims dim1, dim2 of the result) whose diagonal ``offset`` holds
    t's last dim, zeros elsewhere, as torch.diag_embed."""
    who = "diag_embed"
    tensor_arg(who, t)
    int_arg(who, "offset", offset)
    ndim = t.ndim + 1
    a, b = dim_arg(who, t, dim1, ndim), dim_arg(who, t, dim2, ndim)
    if a == b:
        raise RuntimeError(f"{who}: dim1 and dim2 must differ, got {dim1} and {dim2}")
    # t is at least 1-d here: a 0-d input's result has one dim, where dim1 and dim2 cannot differ
    n = t.shape[-1] + abs(offset)
    rows, cols, _ = _diagonal_positions(t._backend, n, n, offset)
    out = ScatterAdd.apply(t, t.shape[:-1] + (n, n), (Ellipsis, rows, cols))
    order = [d for d in range(ndim) if d not in (a, b)]  # the result's dims, filled from (batch..., n, n)
    perm = [0] * ndim
    for i, d in enumerate(order):
        perm[d] = i
    perm[a], perm[b] = ndim - 2, ndim - 1
    return out.permute(*perm)


def diag(t, diagonal=0):
    """For a 1-d t: the square matrix with t on diagonal ``diagonal``; for a 2-d t:
    that diagonal as a 1-d copy, as torch.diag."""
    who = "diag"
    tensor_arg(who, t)
    if isinstance(diagonal, bool) or not isinstance(diagonal, int):
        raise TypeError(f"{who}: diagonal must be an int, got {type(diagonal).__name__} {diagonal!r}")
    if t.ndim == 1:
        return diag_embed(t, diagonal)
    if t.ndim == 2:
        return _diagonal(t, diagonal)
    raise RuntimeError(f"{who}: expected a 1-d or 2-d tensor, got {t.ndim}-d (shape {t.shape})")


def diagflat(t, offset):
    """The square matrix with t's elements (flattened) on diagonal ``offset``, as torch.diagflat."""
    tensor_arg("diagflat", t)
    int_arg("diagflat", "offset", offset)
    return diag_embed(t.reshape(-1), offset)


def trace(t):
    """The sum of a matrix's main diagonal, as torch.trace."""
    tensor_arg("trace", t)
    if t.ndim != 2:
        raise RuntimeError(f"trace: expected a 2-d tensor, got {t.ndim}-d (shape {t.shape})")
    return diagonal(t).sum()
