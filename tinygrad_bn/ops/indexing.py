"""PyTorch's index ops: gather, scatter, scatter_add, index_select/add/copy/fill,
masked_fill/select/scatter, take, take_along_dim, flip, roll, rot90 and the
diagonal family, each as a composition of recorded ops.

Reading at indices is ``GetItem`` (its backward scatters with addition), writing
is ``SetItem`` (the written places pass no gradient to the old values) and adding
at indices is ``ScatterAdd``; so every op here has a backward, a double backward
and runs on every device without code of its own. Indices are checked before
anything runs (a device that defers checks raises at its next host read).

Where we differ from PyTorch: indices may be any integer dtype (PyTorch wants
int64 for gather/scatter); ``diagonal`` returns a copy (PyTorch: a view, so an
in-place write to it would reach the input there); duplicate indices in
``scatter``/``index_copy``/``masked_scatter`` keep the last write (PyTorch leaves
which one undefined).

The ops live by family: gather, scatter, the index_* ops and take
(``gather_scatter``), the mask ops, select and the *_scatter family
(``masks_slices``), flips, rotations and the diagonal family
(``flips_diagonals``), with the argument checks they share in ``index_args``;
this module names them all.
"""
from .flips_diagonals import (
                             diag,
                             diag_embed,
                             diagflat,
                             diagonal,
                             flip,
                             fliplr,
                             flipud,
                             roll,
                             rot90,
                             trace,
)
from .gather_scatter import (
                             gather,
                             index_add,
                             index_copy,
                             index_fill,
                             index_select,
                             scatter,
                             scatter_add,
                             take,
                             take_along_dim,
)
from .index_args import (
                             along,
                             at_dim,
                             broadcast_shape,
                             check_range,
                             dim_arg,
                             index_arg,
                             int_arg,
                             ints_arg,
                             same_dtype,
)
from .masks_slices import (
                             diagonal_scatter,
                             masked_fill,
                             masked_scatter,
                             masked_select,
                             select,
                             select_scatter,
                             slice_scatter,
)

__all__ = [
    "along", "at_dim", "broadcast_shape", "check_range", "diag", "diag_embed", "diagflat", "diagonal",
    "diagonal_scatter", "dim_arg", "flip", "fliplr", "flipud", "gather", "index_add", "index_arg", "index_copy",
    "index_fill", "index_select", "int_arg", "ints_arg", "masked_fill", "masked_scatter", "masked_select", "roll",
    "rot90", "same_dtype", "scatter", "scatter_add", "select", "select_scatter", "slice_scatter", "take",
    "take_along_dim", "trace",
]
