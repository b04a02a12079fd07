"""Tensor methods that change a tensor in place: add_, sub_, mul_, div_ (and
``+=``, ``-=``, ``*=``, ``/=``), relu_, leaky_relu_, clamp_, uniform_, normal_,
zero_, fill_ and copy_, with ``_inplace``, the rule every in-place method
(here and in the other mixins) records by. ``Tensor`` (tensor.py) inherits them.

With grad mode on and a tensor or operand that requires grad, the write is
recorded as its out-of-place twin and the tensor takes the result's place on the
tape; through a view, the tensor owning the memory is rebased as well.
"""
import numpy as np

from .arguments import devices_differ, number_arg
from .dtypes import is_float
from .grad_mode import GradMode, no_grad
from .ops import convert as C
from .ops import movement as M
from .ops.index_args import fill_number
from .tensor_base import TensorBase, make_tensor


class InPlaceMethods:
    __slots__ = ()

    def _inplace(self, op_name, recorded, method, *args, operand=None):
        """An in-place method: on the tape like its out-of-place twin
        (``recorded(t)``, t standing for self) when grad mode is on and self or
        ``operand`` requires grad (then self does afterwards), else a raw
        backend write. Through a view, the tensor owning the memory is rebased
        on the tape as well (PyTorch's rule), so gradients flow as the values do."""
        tracked = self.requires_grad or (isinstance(operand, TensorBase) and operand.requires_grad)
        if not (tracked and GradMode.enabled):
            return self._write(method, *args)
        if self.is_leaf and self.requires_grad:
            raise RuntimeError(
                f"{op_name}: a leaf tensor that requires grad is being changed in place; "
                "wrap the update in `with tinygrad_bn.no_grad():` (as optimizers do) "
                "or work on a clone."
            )
        view = getattr(self, "_view", None)
        if view is not None:
            _check_view_write(op_name, *view)
        # the op runs on a copy that stands for self on the tape: an op that saves
        # its input (mul_, div_) keeps the old values, which the write below changes
        snapshot = make_tensor(self._backend.copy(self._data), self._backend, self.requires_grad)
        snapshot._entry, snapshot._out_index = self._entry, self._out_index
        result = recorded(snapshot)
        self._write("copyto", result._data)
        self._entry, self._out_index = result._entry, result._out_index
        self.requires_grad = result.requires_grad
        if view is not None:
            _rebase_owner(*view, self)
        return self

    def _check_inplace_operand(self, op_name, other, divides=False):
        """PyTorch's rule for in-place arithmetic: the result keeps the tensor's
        shape and dtype, so the operand must broadcast to the tensor's shape, and
        a floating result (a float operand, a division, or ``divides`` for any
        other reason: a float alpha) cannot go into an integer tensor."""
        _check_operand_values(op_name, other)
        if isinstance(other, TensorBase):
            _check_same_device(op_name, self, other)
            shape, kind = other.shape, other.dtype.kind
        else:
            o = np.asarray(other) if isinstance(other, (list, tuple)) else other
            shape = tuple(getattr(o, "shape", ()))
            kind = getattr(getattr(o, "dtype", None), "kind", None) or _number_kind(other)
        floating, integral = kind in ("f", "c"), kind in ("i", "u")
        if not M.broadcasts_to(tuple(shape), self.shape):
            raise RuntimeError(
                f"{op_name}: the operand of shape {tuple(shape)} does not broadcast to the tensor's "
                f"shape {self.shape}; an in-place op keeps its tensor's shape, so use the "
                "out-of-place form (x = x + y) to get the broadcast result"
            )
        if not is_float(self.dtype) and (floating or divides):
            raise RuntimeError(
                f"{op_name}: the result is floating point and cannot be stored in place in a "
                f"tensor of dtype {self.dtype}; convert first (x = x.float()) or use the "
                "out-of-place form"
            )
        if self.dtype.kind == "b" and integral:
            raise RuntimeError(
                f"{op_name}: the result is an integer and cannot be stored in place in a bool tensor; "
                "convert first (x = x.long()) or use the out-of-place form"
            )

    def _scaled(self, other, alpha):
        if alpha == 1:
            return other._data if isinstance(other, TensorBase) else other
        return self._backend.mul(other._data if isinstance(other, TensorBase) else other, alpha)

    def add_(self, other, alpha=1):
        self._check_inplace_operand("add_", other, divides=isinstance(alpha, float))
        return self._inplace("add_", lambda t: t + _or_self(other, self, t) * alpha if alpha != 1 else t + _or_self(other, self, t),
                             "iadd", self._scaled(other, alpha), operand=other)

    def sub_(self, other, alpha=1):
        self._check_inplace_operand("sub_", other, divides=isinstance(alpha, float))
        return self._inplace("sub_", lambda t: t - _or_self(other, self, t) * alpha if alpha != 1 else t - _or_self(other, self, t),
                             "isub", self._scaled(other, alpha), operand=other)

    def mul_(self, other):
        self._check_inplace_operand("mul_", other)
        return self._inplace("mul_", lambda t: t * _or_self(other, self, t), "imul", self._scaled(other, 1),
                             operand=other)

    def div_(self, other):
        self._check_inplace_operand("div_", other, divides=True)
        return self._inplace("div_", lambda t: t / _or_self(other, self, t), "idiv", self._scaled(other, 1),
                             operand=other)

    # x += y and the rest change x in place, as in PyTorch (without these Python
    # would rebind x to a new tensor: `p -= lr * p.grad` would leave p as it was)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def relu_(self):
        return self._inplace("relu_", lambda t: t.relu(), "copyto", self._backend.relu(self._data))

    def leaky_relu_(self, negative_slope=0.01):
        with no_grad():
            values = self.leaky_relu(negative_slope)._data
        return self._inplace("leaky_relu_", lambda t: t.leaky_relu(negative_slope), "copyto", values)

    def clamp_(self, min=None, max=None):
        with no_grad():
            values = self.clamp(min, max)._data
        # a bound that requires grad makes the result require it, as an operand does
        bound = next((b for b in (min, max) if isinstance(b, TensorBase) and b.requires_grad), None)
        return self._inplace("clamp_", lambda t: t.clamp(min, max), "copyto", values, operand=bound)

    clip_ = clamp_

    def _random_fill(self, op_name, draw):
        if not is_float(self.dtype):
            raise RuntimeError(f"{op_name}: random values are floating point, so the tensor must be too; "
                               f"it has dtype {self.dtype}")
        values = draw(self._backend)
        return self._inplace(op_name, lambda t: C.Overwrite.apply(t, values), "copyto", values)

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        """Fill with values uniform on [from, to) from the device's generator or ``generator``,
        as PyTorch (``from`` is spelled ``from_`` here: a Python keyword; ``to=`` is PyTorch's)."""
        number_arg("uniform_", "from", from_)
        number_arg("uniform_", f"to (with from={from_})", to, from_)
        if generator is None:
            return self._random_fill("uniform_", lambda be: be.uniform(from_, to, self.shape, self.dtype))
        return self._random_fill("uniform_", lambda be: be.cast(be.add(be.mul(
            self._draw("uniform_", generator), to - from_), from_), self.dtype))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with normal values from the device's generator or ``generator``, as PyTorch."""
        number_arg("normal_", "mean", mean)
        number_arg("normal_", "std", std, 0.0)
        if generator is None:
            return self._random_fill("normal_", lambda be: be.normal(mean, std, self.shape, self.dtype))
        return self._random_fill("normal_", lambda be: be.cast(be.add(be.mul(
            self._draw("normal_", generator, normal=True), std), mean), self.dtype))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        source = None
        if isinstance(value, TensorBase):
            if value.ndim:
                raise RuntimeError(f"fill_: the value must be a number or a 0-d tensor, got shape {value.shape}")
            if value.requires_grad:  # the filled values depend on it: recorded, as in PyTorch
                source = value
            value = value.item()
        value = fill_number("fill_", self.dtype, value)
        return self._inplace("fill_", lambda t: C.Overwrite.apply(t, value if source is None else source), "fill",
                             value, operand=source)

    def copy_(self, src):
        _check_operand_values("copy_", src)
        if isinstance(src, TensorBase) and src._backend is not self._backend:
            src = src.to(self.device)  # copy_ copies across devices, as in PyTorch (recorded: ToDevice)
        s = src._data if isinstance(src, TensorBase) else self._backend.asarray(src)
        try:
            self._backend.broadcast_to(s, self.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: cannot copy a source of shape {tuple(s.shape)} into a tensor of shape "
                f"{self.shape}; the source must broadcast to the destination"
            ) from None
        return self._inplace("copy_", lambda t: C.Overwrite.apply(t, src if isinstance(src, TensorBase) else s),
                             "copyto", s, operand=src)


def _check_same_device(op_name, t, other):
    if other._backend is not t._backend:
        raise devices_differ(op_name, other.device, t.device, "the operand and the tensor")


def _check_view_write(op_name, owner, steps):
    if isinstance(steps, str):  # an input a custom Function returned as it is (PyTorch refuses this too)
        raise RuntimeError(
            f"{op_name}: the tensor is a view of another, {steps}, and is being changed in place; "
            "return x.clone() from forward, or clone the output before changing it.")
    if owner.is_leaf and owner.requires_grad:
        raise RuntimeError(
            f"{op_name}: a view of a leaf tensor that requires grad cannot be changed in place (its "
            "gradient would lose the write); change the leaf under `with tinygrad_bn.no_grad():` or work on a clone.")
    if any(cls is M.Expand for cls, _ in steps):
        raise RuntimeError(
            f"{op_name}: the tensor is an expanded view, in which several elements share one memory "
            "location; writing it in place is not supported. Clone it first (t = t.clone()).")


def _rebase_owner(owner, steps, view):
    """After an in-place write through ``view``: the owner of its memory stands
    on the tape for its old values outside the view and the view's new ones inside."""
    stand_in = make_tensor(owner._data, owner._backend, owner.requires_grad)
    stand_in._entry, stand_in._out_index, stand_in._version_cell = owner._entry, owner._out_index, owner._version_cell
    rebased = M.ViewWrite.apply(stand_in, view, steps)
    owner._entry, owner._out_index = rebased._entry, rebased._out_index
    owner.requires_grad = rebased.requires_grad


def _check_operand_values(op_name, other):
    """The operand of an in-place op: a tensor, a number, or numbers in a list or array."""
    if isinstance(other, (TensorBase, bool, int, float, np.number)):
        return
    if isinstance(other, (list, tuple, np.ndarray)):
        try:
            kind = np.asarray(other).dtype.kind
        except ValueError:
            kind = "O"
        if kind in "biuf":
            return
    raise TypeError(f"{op_name}: the operand must be a tensor, a number or a list or array of numbers, "
                    f"got {type(other).__name__}")


def _or_self(other, self, stand_in):
    """The operand of an in-place op, with ``stand_in`` for self (x *= x)."""
    return stand_in if other is self else other


def _number_kind(value):
    """The NumPy dtype kind a Python number stands for (None for anything else)."""
    for kind, types in (("b", bool), ("i", int), ("f", float), ("c", complex)):
        if isinstance(value, types):
            return kind
    return None
