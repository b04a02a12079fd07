"""The arguments ``backward`` and ``grad`` share: ``outputs`` and ``inputs`` as
lists of tensors, and the gradient each output starts the walk with."""
from .engine_recorded import recording
from .tensor_base import TensorBase, make_tensor


def tensor_list(value, name, who="grad"):
    """``outputs`` or ``inputs``: one tensor or a sequence of tensors."""
    if isinstance(value, TensorBase):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{who}: {name} must be a Tensor or a sequence of Tensors, got {type(value).__name__}")
    for k, t in enumerate(value):
        if not isinstance(t, TensorBase):
            raise TypeError(f"{who}: {name}[{k}] must be a Tensor, got {type(t).__name__}")
    return list(value)


def default_grad_outputs(outputs, grad_outputs, who, as_tensors):
    """The gradient each output starts with: given, or 1 for a scalar. Arrays,
    or (``as_tensors``, for a recorded pass) tensors: a given tensor as it is,
    graph and all."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, TensorBase):
        grad_outputs = [grad_outputs]
    gos = []
    for out, g in zip(outputs, grad_outputs):
        be = out._backend
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be created implicitly only for scalar outputs, got "
                    f"shape {tuple(out.shape)}; pass a gradient of that shape, e.g. "
                    "out.backward(ones_like(out))."
                )
            gos.append(be.ones_like(out._data))
        else:
            given = g
            if isinstance(g, TensorBase):
                if g._backend is not be:
                    raise RuntimeError(
                        f"{who}: the gradient is on {g.device} but the output is on {out.device}; "
                        "move it with .to(device)."
                    )
                g = g._data
            else:
                g = be.asarray(g, dtype=out.dtype)
            if g.shape != out._data.shape:
                raise RuntimeError(
                    f"{who}: gradient has shape {tuple(g.shape)} but the output has shape "
                    f"{tuple(out.shape)}; they must match."
                )
            if as_tensors and isinstance(given, TensorBase) and given.requires_grad:
                gos.append(recording(be).cast(given, out.dtype))
                continue
            gos.append(be.cast(g, out.dtype))
    if as_tensors:
        return [g if isinstance(g, TensorBase) else make_tensor(g, out._backend, False)
                for g, out in zip(gos, outputs)]
    return gos
