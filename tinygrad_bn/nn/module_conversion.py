"""Module's moves and casts: ``ModuleConversion`` (the base of ``Module``) gives
every parameter and buffer (and gradient) new storage in place, on another device
or dtype (``to``, ``cuda``, ``double``, ``type``, ``to_empty``), so optimizers
built before keep holding them."""
from __future__ import annotations

from ..backends import get_backend, move
from ..dtypes import as_dtype, float16, float32, float64, is_float
from ..grad_mode import no_grad
from ..tensor import _is_device
from ..tensor_base import TensorBase, array_of, backend_of, make_tensor, replace_storage


class ModuleConversion:
    """The device and dtype part of ``Module``."""

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Move parameters and buffers to a device and/or cast the floating point
        ones to a dtype, in place: ``to("cuda")``, ``to(float64)``, ``to("cpu", float32)``,
        ``to(tensor)`` (its device and dtype). Parameters keep their identity, so an
        optimizer built before still holds them."""
        for a in args:
            if isinstance(a, TensorBase):
                device, dtype = a.device, a.dtype
            elif _is_device(a):
                device = a
            else:
                dtype = a
        dtype = as_dtype(dtype, "Module.to")
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to: expected a floating point dtype, got {dtype}")
        target = get_backend(device) if device is not None else None
        for t in list(self.parameters()) + list(self.buffers()):
            for holder in (t, t.grad):
                if holder is None:
                    continue
                array, be = array_of(holder), backend_of(holder)
                if target is not None and be is not target:
                    array, be = move(array, be, target), target
                if dtype is not None and holder.dtype.kind == "f" and holder.dtype != dtype:
                    array = be.cast(array, dtype)
                # a new array, not a write, but values saved for backward are stale too;
                # a tensor already on the device with the dtype is left alone, as PyTorch
                # leaves it (a backward after a no-op .to() still runs)
                if array is not array_of(holder) or be is not backend_of(holder):
                    replace_storage(holder, array, be)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        """Cast the floating point parameters and buffers to float16, in place."""
        return self.to(float16)

    def type(self, dst_type):
        """Cast every parameter and buffer (integer ones too, as PyTorch) to ``dst_type``:
        a dtype or a type name (``"torch.DoubleTensor"``), in place."""
        def cast(t):
            try:
                return t.type(dst_type)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"Module.type: {exc}") from None
        return self._convert("Module.type", cast)

    def to_empty(self, *, device, recurse=True):
        """Give every parameter and buffer new, unfilled storage on ``device`` (None: each
        stays on its device), in place; the values are not copied (they are zeros here)."""
        if device is not None:
            try:
                get_backend(device)
            except ValueError as exc:
                raise ValueError(f"Module.to_empty: {exc}") from None

        def empty(t):
            be = backend_of(t) if device is None else get_backend(device)
            return make_tensor(be.zeros(t.shape, t.dtype), be)
        return self._convert("Module.to_empty", empty, recurse)

    def _convert(self, who, fn, recurse=True):
        """Replace the storage of every parameter and buffer (and gradient) with that of
        ``fn(tensor)``: all computed first, so a failure changes nothing."""
        seen, plan = set(), []
        mods = self.modules() if recurse else [self]
        with no_grad():
            for m in mods:
                for store in (m._parameters, m._buffers):
                    for name, t in store.items():
                        if t is None or id(t) in seen:
                            continue
                        seen.add(id(t))
                        for holder in (t, t.grad):
                            if holder is None:
                                continue
                            new = fn(holder.detach())
                            if holder.requires_grad and not is_float(new.dtype):
                                raise TypeError(f"{who}: {name!r} requires grad, so it must stay floating point; "
                                                f"got dtype {new.dtype}")
                            plan.append((holder, new))
        for holder, new in plan:
            replace_storage(holder, array_of(new), backend_of(new))
        return self

    def apply(self, fn):
        if not callable(fn):
            raise TypeError(f"apply: fn must be a callable taking a module, got {type(fn).__name__}")
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self
