"""``Parameter`` and ``Buffer``: the tensors a Module registers as trainable and as
saved state, with PyTorch's names and semantics."""
from __future__ import annotations

from ..tensor import Tensor
from ..tensor_base import TensorBase, array_of


class Parameter(Tensor):
    """A tensor that a Module registers as trainable; requires grad by default."""

    __slots__ = ()
    is_parameter = True

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            super().__init__(array_of(data), requires_grad=requires_grad, device=data.device)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)`` (PyTorch >= 2.5): a tensor that, assigned to
    a module attribute, is registered as a buffer (``register_buffer``), saved in the
    state dict unless ``persistent=False``. It shares ``data``'s memory (a detached
    view of it), keeps its ``requires_grad``, and is a Tensor in every other way."""

    __slots__ = ()
    persistent = True

    def __new__(cls, data=None, *, persistent=True):
        if not isinstance(persistent, bool):
            raise TypeError(f"Buffer: persistent must be a bool, got {type(persistent).__name__} {persistent!r}")
        if data is None:
            t = Tensor([])
        elif isinstance(data, TensorBase):
            t = data.detach()
            t.requires_grad = data.requires_grad
        else:
            try:
                t = Tensor(data)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"Buffer: data must be a Tensor (or numbers to make one), got "
                                f"{type(data).__name__}: {exc}") from None
        t.__class__ = Buffer if persistent else _NonPersistentBuffer
        return t

    def __init__(self, data=None, *, persistent=True):
        pass  # built by __new__


class _NonPersistentBuffer(Buffer):
    """The class of ``Buffer(..., persistent=False)``: ``persistent`` lives on the class,
    since tensors have no per-instance attributes."""

    __slots__ = ()
    persistent = False
