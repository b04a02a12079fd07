"""The normalization gradients as an op of their own, for recorded backward passes.

When a norm's backward runs on the recording backend (``create_graph=True``),
it records one ``NormBackward``: its forward is the fused backward kernel
(``backend.kernels``: the first-order pass costs what it always did), and its
backward, the double backward, is the closed form below. On the CPU, in a plain
second pass (a Hessian-vector product, a gradient penalty), batch and layer
norm run it as a fused kernel (``kernels/cpu/double_backward.py``: two sweeps,
the forward's statistics). Everywhere else it runs as written here, against the
backend contract: on "cuda", for group norm and SyncBatchNorm, and recorded in
a third pass (it recomputes the statistics from x, so every order is exact).

One normalized group (a channel for batch norm, a row for layer norm, a
(sample, group) for group norm) of M elements: x_hat = (x - mean) * s with
s = 1 / sqrt(var + eps), gy = g * weight, and with batch statistics
    P(u) = u - mean(u) - x_hat * mean(u * x_hat)       (symmetric: P = I - 11'/M - x_hat x_hat'/M)
    dx = s * P(gy),   dweight = sum(g * x_hat),   dbias = sum(g)
(running statistics, eval mode: dx = s * gy). Since d x_hat / dx = s * P and
d s / dx = -s^2 x_hat / M, the gradients of <a, dx> + <beta, dweight> +
<gamma, dbias> (a, beta, gamma: what reaches dx, dweight, dbias) are, with
S(u, v) = sum(u * v) over the group,
    d/dx      = -(s^2 / M) (x_hat S(a, P(gy)) + S(gy, x_hat) P(a) + S(a, x_hat) P(gy)) + s P(beta * g)
    d/dg      = s * weight * P(a) + beta * x_hat + gamma
    d/dweight = sum(s * g * P(a))
and in eval mode d/dx = s * beta * g, d/dg = s * weight * a + beta * x_hat + gamma,
d/dweight = sum(s * g * a).

RMS norm (no mean, no bias) has the same form: x_hat = x * s with
s = 1 / sqrt(mean(x^2) + eps), and with P(u) = u - x_hat * mean(u * x_hat)
(symmetric: I - x_hat x_hat'/M) again d x_hat / dx = s * P and
d s / dx = -s^2 x_hat / M, so dx, d/dx, d/dg and d/dweight above hold as
written with this P (and gamma = 0). Its double backward is this composite
form on every device (there is no fused RMS double backward kernel).
"""
from ..function import Function


class Layout:
    """Where a norm's groups lie in x, and where its parameters do."""

    def __init__(self, kind, shape, num_groups=None, normalized_ndim=None):
        self.kind, self.shape = kind, tuple(shape)
        ndim = len(shape)
        if kind == "batch":
            self.grouped = self.shape
            self.axes = (0,) + tuple(range(2, ndim))
            self.param_view = (1, shape[1]) + (1,) * (ndim - 2)
            self.param_axes = self.axes
        elif kind in ("layer", "rms"):
            self.grouped = self.shape
            self.axes = tuple(range(ndim - normalized_ndim, ndim))
            self.param_view = self.shape[ndim - normalized_ndim:]
            self.param_axes = tuple(range(ndim - normalized_ndim))
        else:  # group: (N, G, C/G * spatial) groups, parameters per channel
            self.grouped = (shape[0], num_groups, -1)
            self.axes = (2,)
            self.param_view = (1, shape[1]) + (1,) * (ndim - 2)
            self.param_axes = (0,) + tuple(range(2, ndim))
        if kind == "group":
            count = 1
            for n in self.shape[1:]:
                count *= n
            count //= num_groups
        else:
            count = 1
            for a in self.axes:
                count *= self.shape[a]
        self.count = count  # M, the elements of one group

    def group(self, be, u):
        """u (shaped like x) laid out so that each group lies along ``axes``."""
        return u if self.grouped is self.shape else be.reshape(u, self.grouped)

    def ungroup(self, be, u):
        return u if self.grouped is self.shape else be.reshape(u, self.shape)

    def per_element(self, be, p):
        """A parameter (or a per-channel constant) broadcast over x, in the grouped layout."""
        p = be.reshape(p, self.param_view)
        if self.grouped is self.shape:
            return p
        return be.reshape(be.broadcast_to(p, self.shape), self.grouped)

    def param_sum(self, be, u):
        """u (grouped layout) summed over the axes the parameters do not have."""
        return be.sum(self.ungroup(be, u), axis=self.param_axes)

    def total(self, be, u):
        """u (grouped layout) summed over each group, kept broadcastable. A
        group spread over several processes (SyncBatchNorm) sums over all of them."""
        return be.sum(u, axis=self.axes, keepdims=True)


class NormBackward(Function):
    """(dx, dweight, dbias) of batch, layer or group norm, (dx, dweight) of RMS
    norm, as one recorded op. ``running`` holds eval-mode batch norm's (mean,
    invstd), constants; None means the statistics are the batch's, functions of x."""

    @staticmethod
    def forward(ctx, x, g, weight, layout, eps, mean, invstd, running):
        be = ctx.backend
        k = be.kernels
        if layout.kind == "batch":
            dx, dw, db = k.batch_norm_backward(x, g, mean, invstd, weight, running is None)
        elif layout.kind == "layer":
            dx, dw, db = k.layer_norm_backward(x, g, mean, invstd, weight, len(layout.axes))
        elif layout.kind == "rms":  # invstd: rstd
            (dx, dw), db = k.rms_norm_backward(x, g, invstd, weight, len(layout.axes)), None
        else:
            dx, dw, db = k.group_norm_backward(x, g, layout.grouped[1], mean, invstd, weight)
        ctx.save_for_backward(x, g, weight)
        ctx.layout, ctx.eps, ctx.running, ctx.stats = layout, eps, running, (mean, invstd)
        ctx.params = {"norm": layout.kind, "eps": eps, "training": running is None}
        if weight is None:
            return dx
        if db is None:
            return dx, _like(be, dw, weight)
        return dx, _like(be, dw, weight), _like(be, db, weight)

    @staticmethod
    def backward(ctx, a, beta=None, gamma=None):
        x, g, weight = ctx.saved_tensors
        nx, ng, nw = ctx.needs_input_grad[:3]
        be, layout = ctx.backend, ctx.layout
        fused = None if be.records or type(layout) is not Layout else _FUSED.get(layout.kind)
        fused = fused and getattr(be.kernels, fused, None)
        if fused is None:  # recorded (third order), group norm, SyncBatchNorm, or a device without the kernel
            dx, dg, dweight = double_backward(be, layout, ctx.eps, ctx.running, x, g, weight,
                                              a, beta, gamma, nx, ng, nw)
            return dx, dg, dweight, None, None, None, None, None
        last = len(layout.axes) if layout.kind == "layer" else ctx.running is None
        dx, dg, dweight = fused(x, g, weight, a, beta, gamma, *ctx.stats, last)
        return (dx if nx else None, be.cast(dg, g.dtype) if ng else None,
                be.cast(dweight, weight.dtype) if nw and weight is not None else None,
                None, None, None, None, None)


# the CPU's fused double backward (kernels/cpu/double_backward.py), by norm; its last
# argument is the batch norm's training flag or the layer norm's normalized_ndim
_FUSED = {"batch": "batch_norm_double_backward", "layer": "layer_norm_double_backward"}


def _like(be, grad, param):
    # the kernels give parameter gradients in the parameter's shape (kernels/protocol.py); the
    # float64 accumulators of a float32 parameter are cast back to its dtype
    return be.cast(grad, param.dtype)


def record(be, kind, x, g, weight, eps, mean, invstd, training=True, num_groups=None, normalized_ndim=None):
    """What a norm's backward returns when it is recorded: (dx, dweight, dbias),
    the last two None without weight; for RMS norm ("rms", ``invstd`` its rstd,
    ``mean`` None) (dx, dweight)."""
    layout = Layout(kind, x.shape, num_groups, normalized_ndim)
    running = None if training else (mean, invstd)
    out = NormBackward.apply(x, g, weight, layout, eps, mean, invstd, running)
    if weight is None:
        return (out, None) if kind == "rms" else (out, None, None)
    return out


def double_backward(be, layout, eps, running, x, g, weight, a, beta, gamma, nx=True, ng=True, nw=True):
    """The gradients in (x, g, weight) of <a, dx> + <beta, dweight> + <gamma, dbias>
    (see the module docstring); None where not needed or nothing flows."""
    # in x's dtype, as PyTorch's double backward: float32 here costs half the memory
    # traffic of float64, and the statistics are recomputed, not differenced
    dtype = x.dtype
    xg, gg = (be.cast(layout.group(be, u), dtype) for u in (x, g))
    ag = None if a is None else be.cast(layout.group(be, a), dtype)
    wg = None if weight is None else layout.per_element(be, be.cast(weight, dtype))
    bg = None if beta is None else layout.per_element(be, be.cast(beta, dtype))
    cg = None if gamma is None else layout.per_element(be, be.cast(gamma, dtype))
    m = float(layout.count)

    def mean(u):
        return be.div(layout.total(be, u), m)

    def total(u, v):
        return layout.total(be, be.mul(u, v))

    if running is None and layout.kind == "rms":  # no mean: x_hat = x * s, P(u) = u - x_hat mean(u x_hat)
        s = be.pow(be.add(mean(be.mul(xg, xg)), eps), -0.5)
        x_hat = be.mul(xg, s)

        def project(u):
            return be.sub(u, be.mul(x_hat, mean(be.mul(u, x_hat))))
    elif running is None:
        centered = be.sub(xg, mean(xg))
        s = be.pow(be.add(mean(be.mul(centered, centered)), eps), -0.5)
        x_hat = be.mul(centered, s)

        def project(u):  # P(u)
            return be.sub(be.sub(u, mean(u)), be.mul(x_hat, mean(be.mul(u, x_hat))))
    else:
        s = layout.per_element(be, be.cast(running[1], dtype))
        x_hat = be.mul(be.sub(xg, layout.per_element(be, be.cast(running[0], dtype))), s)

        def project(u):  # with constant statistics dx = s * gy: no projection
            return u

    gy = gg if wg is None else be.mul(gg, wg)
    pa = None if ag is None else project(ag)
    dx = dg = dweight = None
    if nx:
        terms = []
        if ag is not None and running is None:
            pgy = project(gy)
            inner = be.add(be.add(be.mul(x_hat, total(ag, pgy)), be.mul(total(gy, x_hat), pa)),
                           be.mul(total(ag, x_hat), pgy))
            terms.append(be.mul(be.mul(be.mul(s, s), -1.0 / m), inner))
        if bg is not None:
            terms.append(be.mul(s, project(be.mul(bg, gg))))
        dx = _sum_of(be, terms)
        dx = None if dx is None else be.cast(layout.ungroup(be, dx), dtype)
    if ng:
        terms = []
        if pa is not None:
            terms.append(be.mul(s, pa if wg is None else be.mul(wg, pa)))
        if bg is not None:
            terms.append(be.mul(bg, x_hat))
        if cg is not None:
            terms.append(be.add(be.zeros_like(gg), cg))
        dg = _sum_of(be, terms)
        dg = None if dg is None else be.cast(layout.ungroup(be, dg), g.dtype)
    if nw and weight is not None and pa is not None:
        dweight = be.cast(be.reshape(layout.param_sum(be, be.mul(be.mul(s, gg), pa)), weight.shape), weight.dtype)
    return dx, dg, dweight


def _sum_of(be, terms):
    out = None
    for t in terms:
        out = t if out is None else be.add(out, t)
    return out
