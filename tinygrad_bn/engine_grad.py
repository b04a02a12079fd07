"""``grad``: the gradients of some outputs with respect to some inputs, returned
rather than accumulated into ``.grad`` (``torch.autograd.grad``); the same walk
as ``backward``, delivering into a list."""
from .engine import run_backward
from .engine_arguments import default_grad_outputs, tensor_list
from .engine_delivery import IntoResults
from .tensor_base import TensorBase, make_tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple of
    tensors, without touching any ``.grad`` (``torch.autograd.grad``). With
    ``create_graph`` they are recorded tensors that can be differentiated again;
    ``retain_graph`` defaults to ``create_graph``. ``only_inputs`` is accepted
    and ignored, as in PyTorch (where it is deprecated)."""
    outputs = tensor_list(outputs, "outputs")
    inputs = tensor_list(inputs, "inputs")
    for k, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"grad: input {k} does not require grad; only tensors created with "
                "requires_grad=True (or computed from one) can be differentiated against."
            )
    if grad_outputs is not None and not isinstance(grad_outputs, TensorBase):
        grad_outputs = list(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise RuntimeError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; "
                               "expected one per output (None for a scalar output's 1)")
    elif isinstance(grad_outputs, TensorBase) and len(outputs) != 1:
        raise RuntimeError(f"grad: got one grad_output tensor for {len(outputs)} outputs; "
                           "pass a sequence with one per output")
    gos = default_grad_outputs(outputs, grad_outputs, "grad", as_tensors=create_graph)
    sink = IntoResults(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    run_backward(outputs, gos, bool(retain), sink, create_graph)
    out = []
    for k, (t, g) in enumerate(zip(inputs, sink.results)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {k} was not used to compute the outputs; pass "
                    "allow_unused=True to get None for it."
                )
            out.append(None)
        else:
            out.append(g if isinstance(g, TensorBase) else make_tensor(g, t._backend, False))
    return tuple(out)
