"""gradcheck and gradgradcheck: the tape's first and second derivatives
against central differences in float64.

The outputs are reduced to a scalar through a fixed random projection,
L = sum_k sum(W_k * out_k), never a plain sum: the sum of a normalized output is
constant, so a plain sum would let any backward pass.
"""
import numpy as np

from ..arguments import number_arg
from ..engine_grad import grad as autograd_grad
from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from ..tensor_base import array_of, backend_of, write_in_place


class GradcheckError(AssertionError):
    """A gradient disagreed with central differences. ``input_index``, ``index``,
    ``analytic``, ``numeric`` and ``rel_error`` say where and by how much."""

    def __init__(self, message, input_index=None, index=None, analytic=None, numeric=None, rel_error=None):
        super().__init__(message)
        self.input_index, self.index = input_index, index
        self.analytic, self.numeric, self.rel_error = analytic, numeric, rel_error


def _as_outputs(out, who):
    outs = [out] if isinstance(out, Tensor) else list(out) if isinstance(out, (tuple, list)) else None
    if not outs or not all(isinstance(o, Tensor) for o in outs):
        raise TypeError(f"{who}: fn must return a Tensor or a tuple of Tensors, got {type(out).__name__}")
    return outs


def _projected(fn, inputs, weights):
    outs = _as_outputs(fn(*inputs), "gradcheck")
    total = 0.0
    for o, w in zip(outs, weights):
        total += float(np.sum(o.detach().cpu().numpy().astype(np.float64) * w))
    return total


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False, n_directions=4,
              seed=0, raise_exception=True):
    """Check ``fn(*inputs)``'s gradients for every input that requires grad.

    ``inputs``: a Tensor or a tuple of Tensors (and other arguments, passed as they
    are). Inputs that require grad must be float64. A gradient g passes where
    ``|g - numeric| <= atol + rtol * |numeric|`` (PyTorch's rule and defaults).
    ``fast_mode`` compares ``n_directions`` random directional derivatives per
    input instead of every element. Returns True, or raises ``GradcheckError``
    naming the input, the index, both values and the relative error (returns
    False instead with ``raise_exception=False``).
    """
    _options("gradcheck", eps, atol, rtol, n_directions)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad; create the inputs with requires_grad=True")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; central differences need float64 "
                "(pass x.double(), or build it with dtype=tinygrad_bn.float64)"
            )
    rng = np.random.default_rng(seed)
    outs = _as_outputs(fn(*inputs), "gradcheck")
    weights = [rng.standard_normal(o.shape) for o in outs]
    loss = None
    for o, w in zip(outs, weights):
        if not o.requires_grad:
            continue
        term = (o * Tensor(w, dtype=o.dtype, device=o.device)).sum()
        loss = term if loss is None else loss + term
    if loss is None:
        analytic = [np.zeros(inputs[i].shape) for i in diff]
    else:
        grads = autograd_grad(loss, [inputs[i] for i in diff], allow_unused=True)
        analytic = [np.zeros(inputs[i].shape) if g is None else g.cpu().numpy().astype(np.float64)
                    for i, g in zip(diff, grads)]

    def fail(msg, **info):
        if raise_exception:
            raise GradcheckError(msg, **info)
        return False

    with no_grad():
        for k, i in enumerate(diff):
            # the input is perturbed in place, on its device, and restored exactly (also when fn raises)
            t, be = inputs[i], backend_of(inputs[i])
            x = array_of(t)
            a = analytic[k]
            if fast_mode:
                for d in range(n_directions):
                    v = rng.standard_normal(x.shape)
                    v /= max(np.linalg.norm(v), 1e-12)
                    step = be.asarray(eps * v)
                    orig = be.copy(x)
                    try:
                        write_in_place(t, "iadd", step)
                        plus = _projected(fn, inputs, weights)
                        write_in_place(t, "copyto", be.sub(orig, step))
                        minus = _projected(fn, inputs, weights)
                    finally:  # fn may raise at a shifted input: the caller's input comes back all the same
                        write_in_place(t, "copyto", orig)
                    num = (plus - minus) / (2 * eps)
                    ana = float(np.sum(a * v))
                    if not abs(ana - num) <= atol + rtol * abs(num):
                        rel = abs(ana - num) / max(abs(num), 1e-12)
                        return fail(
                            f"gradcheck (fast mode) failed for input {i} (shape {tuple(x.shape)}) "
                            f"along random direction {d}: analytic {ana:.6g}, numeric {num:.6g}, "
                            f"relative error {rel:.3g} (atol {atol}, rtol {rtol})",
                            input_index=i, index=f"direction {d}", analytic=ana, numeric=num, rel_error=rel)
                continue
            for idx in np.ndindex(*x.shape):
                orig = be.copy(be.getitem(x, idx))  # CuPy's x[idx] is a view
                try:
                    write_in_place(t, "setitem", idx, be.add(orig, eps))
                    plus = _projected(fn, inputs, weights)
                    write_in_place(t, "setitem", idx, be.sub(orig, eps))
                    minus = _projected(fn, inputs, weights)
                finally:
                    write_in_place(t, "setitem", idx, orig)
                num = (plus - minus) / (2 * eps)
                ana = float(a[idx])
                if not abs(ana - num) <= atol + rtol * abs(num):
                    rel = abs(ana - num) / max(abs(num), 1e-12)
                    return fail(
                        f"gradcheck failed for input {i} (shape {tuple(x.shape)}) at index {idx}: "
                        f"analytic {ana:.6g}, numeric {num:.6g}, relative error {rel:.3g} "
                        f"(atol {atol}, rtol {rtol})",
                        input_index=i, index=idx, analytic=ana, numeric=num, rel_error=rel)
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, fast_mode=False,
                  n_directions=4, seed=0, raise_exception=True):
    """Check the second derivatives of ``fn(*inputs)`` (``torch.autograd.gradgradcheck``).

    The first derivatives along ``grad_outputs`` (one float64 tensor per output;
    random, and requiring grad, when None), taken with ``create_graph=True``,
    are themselves checked with ``gradcheck`` against central differences, as
    functions of the inputs and of ``grad_outputs``. Arguments as ``gradcheck``'s.
    """
    _options("gradgradcheck", eps, atol, rtol, n_directions)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = _as_outputs(fn(*inputs), "gradgradcheck")
    differentiable = [k for k, o in enumerate(outs) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = tuple(Tensor(rng.standard_normal(outs[k].shape), dtype=np.float64, device=outs[k].device,
                                    requires_grad=True) for k in differentiable)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
        if len(grad_outputs) != len(differentiable):
            raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(differentiable)} "
                             "differentiable outputs; expected one per output that requires grad")
    n_in = len(inputs)

    def first_derivatives(*args):
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():  # gradcheck evaluates it under no_grad() too
            outs = _as_outputs(fn(*ins), "gradgradcheck")
            diff = [t for t in ins if isinstance(t, Tensor) and t.requires_grad]
            grads = autograd_grad([outs[k] for k in differentiable], diff, list(gos), create_graph=True,
                                  allow_unused=True)
        return tuple(g if g.requires_grad else g.detach() for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     fast_mode=fast_mode, n_directions=n_directions, seed=seed, raise_exception=raise_exception)


def _options(who, eps, atol, rtol, n_directions):
    """The step and tolerances as numbers, the step above 0 (at 0 the differences
    divide by 0), and at least one direction (with none, fast mode compares
    nothing and passes any gradient)."""
    number_arg(who, "eps", eps, 0.0, low_open=True)
    number_arg(who, "atol", atol, 0.0)
    number_arg(who, "rtol", rtol, 0.0)
    number_arg(who, "n_directions", n_directions, 1, integer=True)


def check_grads(fn, inputs, order=1, **kwargs):
    """``gradcheck`` and, with ``order=2``, ``gradgradcheck`` too (as JAX's
    ``check_grads(f, args, order)`` in reverse mode). Keyword arguments go to both."""
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"check_grads: order must be 1 or 2, got {order!r}")
    ok = gradcheck(fn, inputs, **kwargs)
    if ok and order == 2:
        ok = gradgradcheck(fn, inputs, **kwargs)
    return ok


# torch.autograd.gradcheck is also a module holding GradcheckError: scripts reach it as an attribute
gradcheck.GradcheckError = GradcheckError
