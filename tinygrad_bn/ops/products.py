"""Products and distances: outer, inner, dot, vdot, kron, einsum and cdist, as
compositions of mul, sum, permute, reshape and matmul (so each has a backward,
a double backward and runs on every device)."""
import math

from ..arguments import float_tensor_arg, tensor_arg
from ..tensor_base import TensorBase
from .flips_diagonals import diagonal
from .index_args import broadcast_shape, dim_arg
from .linalg import matmul


def _same_dtype(who, a, b):
    if a.dtype != b.dtype:
        raise RuntimeError(f"{who}: expected both tensors to have the same dtype, got {a.dtype} and {b.dtype}")


def outer(t, vec2):
    """The outer product of two 1-d tensors: out[i, j] = t[i] * vec2[j], as torch.outer."""
    tensor_arg("outer", t)
    tensor_arg("outer", vec2, "vec2")
    if t.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected two 1-d tensors, got shapes {t.shape} and {vec2.shape}")
    return t.reshape(-1, 1) * vec2.reshape(1, -1)


def inner(t, other):
    """The sum of products over the last dims (a product when either is 0-d):
    shape t.shape[:-1] + other.shape[:-1], as torch.inner."""
    tensor_arg("inner", t)
    tensor_arg("inner", other, "other")
    if t.ndim == 0 or other.ndim == 0:
        return t * other
    if t.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner: the last dims must match, got shapes {t.shape} and {other.shape}")
    k = t.shape[-1]
    out = matmul(t.reshape(-1, k), other.reshape(-1, k).transpose(0, 1))
    return out.reshape(*(t.shape[:-1] + other.shape[:-1]))


def dot(t, other):
    """The sum of products of two 1-d tensors of one length and dtype, as torch.dot."""
    tensor_arg("dot", t)
    tensor_arg("dot", other, "other")
    if t.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: expected two 1-d tensors, got {t.ndim}-d and {other.ndim}-d "
                           f"(shapes {t.shape} and {other.shape})")
    if t.shape != other.shape:
        raise RuntimeError(f"dot: expected tensors of the same length, got {t.shape[0]} and {other.shape[0]}")
    _same_dtype("dot", t, other)
    return matmul(t, other)


def vdot(t, other):
    """dot of the conjugate of t with other; for real tensors dot itself, as torch.vdot."""
    tensor_arg("vdot", t)
    tensor_arg("vdot", other, "other")
    if t.ndim != 1 or other.ndim != 1 or t.shape != other.shape:
        raise RuntimeError(f"vdot: expected two 1-d tensors of one length, got shapes {t.shape} and {other.shape}")
    return dot(t, other)


def tensordot(a, b, dims=2):
    """Sums of products over ``dims``: the last ``dims`` dims of a with the first
    of b, or the dims listed in a pair (dims_a, dims_b), as torch.tensordot."""
    who = "tensordot"
    tensor_arg(who, a, "a")
    tensor_arg(who, b, "b")
    _same_dtype(who, a, b)
    if isinstance(dims, TensorBase):
        dims = dims.tolist()
    if isinstance(dims, int) and not isinstance(dims, bool):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise RuntimeError(f"{who}: dims must be in [0, {min(a.ndim, b.ndim)}] for shapes {a.shape} and "
                               f"{b.shape}, got {dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError(f"{who}: expected as many dims of a as of b, got {da} and {db}")
        da = [dim_arg(who, a, d) for d in da]
        db = [dim_arg(who, b, d) for d in db]
    else:
        raise TypeError(f"{who}: dims must be an int or a pair of lists of dims, got {dims!r}")
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"{who}: contracted dims differ in size: a's dim {x} is {a.shape[x]}, b's dim {y} is "
                               f"{b.shape[y]}")
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    a2 = a.permute(*(free_a + da)).reshape(math.prod(a.shape[d] for d in free_a), k)
    b2 = b.permute(*(db + free_b)).reshape(k, math.prod(b.shape[d] for d in free_b))
    return matmul(a2, b2).reshape(*([a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]))


def kron(t, other):
    """The Kronecker product (shapes padded with leading 1s to one length), as torch.kron."""
    tensor_arg("kron", t)
    tensor_arg("kron", other, "other")
    nd = max(t.ndim, other.ndim)
    sa = (1,) * (nd - t.ndim) + t.shape
    sb = (1,) * (nd - other.ndim) + other.shape
    a = t.reshape(*(n for s in sa for n in (s, 1)))
    b = other.reshape(*(n for s in sb for n in (1, s)))
    return (a * b).reshape(*(x * y for x, y in zip(sa, sb)))


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Distances between the rows of x1 (..., P, M) and of x2 (..., R, M), shape
    (..., P, R), batch dims broadcast, as torch.cdist for p = 2 (gradient 0 at
    distance 0, as PyTorch), 1 and 0. Computed directly, never through the
    matmul expansion PyTorch may use for p = 2 (``compute_mode`` is accepted
    and has no effect), so results are at least as accurate."""
    who = "cdist"
    float_tensor_arg(who, x1, "x1")
    float_tensor_arg(who, x2, "x2")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"{who}: expected x1 and x2 of at least 2 dims, got shapes {x1.shape} and {x2.shape}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"{who}: x1 and x2 must have the same number of columns, got shapes "
                           f"{x1.shape} and {x2.shape}")
    _same_dtype(who, x1, x2)
    broadcast_shape(who, x1.shape[:-2], x2.shape[:-2])
    if p not in (0, 1, 2):
        raise ValueError(f"{who}: p must be 2, 1 or 0 here, got {p!r}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 2:
        return diff.norm(dim=-1)
    if p == 1:
        return diff.abs().sum(-1)
    return (diff != 0).sum(-1).to(x1.dtype)


# ------------------------------------------------------------------ einsum

_ELLIPSIS_LABELS = [chr(0x3b1 + i) for i in range(24)]  # Greek letters: no user label (a-z, A-Z) is one


def _parse_term(who, term, ndim, k):
    """The labels of one operand's subscripts, with its ellipsis dims as the shared
    private labels (aligned from the right, as broadcasting aligns them)."""
    head, dots, tail = term.partition("...")
    if "..." in tail or "." in head + tail:
        raise ValueError(f"{who}: subscript {term!r} of operand {k} has a stray '.' or two ellipses")
    for c in head + tail:
        if not c.isascii() or not c.isalpha():
            raise ValueError(f"{who}: subscripts must be letters a-z, A-Z (and ...), got {c!r} in {term!r}")
    fixed = len(head) + len(tail)
    if (not dots and fixed != ndim) or (dots and fixed > ndim):
        raise RuntimeError(f"{who}: subscript {term!r} of operand {k} names {fixed} dims, but the operand has "
                           f"{ndim}; expected one letter per dim{' (... for the rest)' if dots else ''}")
    n_ell = ndim - fixed if dots else 0
    return list(head) + _ELLIPSIS_LABELS[len(_ELLIPSIS_LABELS) - n_ell:] + list(tail), n_ell


def einsum(equation, *operands):
    """Sums of products named by subscripts, as torch.einsum: ``einsum("ij,jk->ik", a, b)``,
    "bi,bi->b", "ij->ji", "ii->i", "i,j->ij", with ``...`` for broadcast dims and the
    implicit output (labels used once, in alphabetical order) when "->" is left out.
    Repeated labels within an operand take its diagonal; labels not in the output
    are summed; operands are contracted pairwise, left to right, by matmul."""
    who = "einsum"
    if not isinstance(equation, str):
        raise TypeError(f"{who}: the equation must be a str, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError(f"{who}: expected at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, TensorBase):
            raise TypeError(f"{who}: operand {i} is a {type(t).__name__}, expected a Tensor")
        _same_dtype(who, operands[0], t)
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"{who}: the equation {equation!r} has {len(terms)} operand subscripts, so it expects "
                         f"{len(terms)} operands; got {len(operands)} operand{'s' if len(operands) != 1 else ''}")
    labels, n_ell = [], 0
    for k, (term, t) in enumerate(zip(terms, operands)):
        lab, n = _parse_term(who, term, t.ndim, k)
        labels.append(lab)
        n_ell = max(n_ell, n)
    ell = _ELLIPSIS_LABELS[len(_ELLIPSIS_LABELS) - n_ell:] if n_ell else []
    if arrow:
        head, dots, tail = rhs.partition("...")
        out = list(head) + (ell if dots else []) + list(tail)
        for c in head + tail:
            if not c.isascii() or not c.isalpha() or not any(c in lab for lab in labels):
                raise ValueError(f"{who}: output subscript {c!r} is not a letter used by an operand ({equation!r})")
        if len(set(out)) != len(out):
            raise ValueError(f"{who}: the output subscripts {rhs!r} name a dim twice")
        # (without '...' in the output, the ellipsis dims are summed, as in PyTorch)
    else:
        counts = {}
        for lab in labels:
            for c in lab:
                counts[c] = counts.get(c, 0) + 1
        out = ell + sorted(c for c, n in counts.items() if n == 1 and c not in ell)

    # sizes: equal, or 1 where the others broadcast
    sizes = {}
    for k, (lab, t) in enumerate(zip(labels, operands)):
        within = {}  # a diagonal takes equal sizes: no broadcasting inside one operand, as in PyTorch
        for c, n in zip(lab, t.shape):
            if within.setdefault(c, n) != n:
                raise RuntimeError(f"{who}: subscript {c!r} is repeated in operand {k} with sizes {within[c]} and "
                                   f"{n}; expected equal sizes to take its diagonal")
            if sizes.get(c, 1) != 1 and n != 1 and sizes[c] != n:
                name = "..." if c in ell else repr(c)
                raise RuntimeError(f"{who}: subscript {name} has size {sizes[c]} in one operand and {n} in "
                                   f"operand {k}; expected equal sizes (or 1)")
            sizes[c] = max(sizes.get(c, 1), n)

    ts = list(operands)
    for k in range(len(ts)):
        ts[k], labels[k] = _diagonals(ts[k], labels[k])
    t, lab = _reduce_unused(ts[0], labels[0], out, labels[1:])
    for k in range(1, len(ts)):
        later = labels[k + 1:]
        b, lb = _reduce_unused(ts[k], labels[k], out, [lab] + later)
        t, lab = _contract(t, lab, b, lb, set(out).union(*map(set, later)), sizes)
    t, lab = _reduce_unused(t, lab, out, [])
    t = _expand_to(t, lab, sizes)
    return t.permute(*(lab.index(c) for c in out)) if lab != out else t


def _diagonals(t, lab):
    """t with each label repeated within it reduced to one dim (its diagonal, moved last)."""
    lab = list(lab)
    while len(set(lab)) != len(lab):
        c = next(c for c in lab if lab.count(c) > 1)
        i = lab.index(c)
        j = lab.index(c, i + 1)
        t = diagonal(t, 0, i, j)
        lab = [x for k, x in enumerate(lab) if k not in (i, j)] + [c]
    return t, lab


def _reduce_unused(t, lab, out, others):
    """t summed over its labels that neither the output nor another operand uses."""
    used = set(out).union(*map(set, others))
    drop = [i for i, c in enumerate(lab) if c not in used]
    if not drop:
        return t, lab
    return t.sum(tuple(drop)), [c for i, c in enumerate(lab) if i not in drop]


def _expand_to(t, lab, sizes):
    """t with its size-1 dims expanded where the label is larger elsewhere (broadcasting)."""
    want = tuple(sizes[c] for c in lab)
    return t if t.shape == want else t.expand(*want)


def _contract(a, la, b, lb, keep, sizes):
    """a and b multiplied and summed over the labels they share that ``keep`` does
    not: one batched matmul (batch, left, shared) @ (batch, shared, right)."""
    a, b = _expand_to(a, la, sizes), _expand_to(b, lb, sizes)
    batch = [c for c in la if c in lb and c in keep]
    shared = [c for c in la if c in lb and c not in keep]
    left = [c for c in la if c not in lb]
    right = [c for c in lb if c not in la]

    def size(cs):
        return math.prod(sizes[c] for c in cs)
    a2 = a.permute(*(la.index(c) for c in batch + left + shared)).reshape(size(batch), size(left), size(shared))
    b2 = b.permute(*(lb.index(c) for c in batch + shared + right)).reshape(size(batch), size(shared), size(right))
    out = matmul(a2, b2).reshape(*(sizes[c] for c in batch + left + right))
    return out, batch + left + right
