"""Second-order costs, side by side with PyTorch when it is installed.

    python benchmarks/bench_higher_order.py [--repeats 7] [--batches 64 256]
    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/bench_higher_order.py

Two tables, float32 (the dtype people train in):

1. SimpleNetBN (784-64-BN-ReLU-128-BN-ReLU-10, train mode, cross entropy) on a
   batch of random digits-shaped inputs: one gradient (forward + backward),
   and one Hessian-vector product of the loss in all parameters (forward,
   backward with create_graph, backward of <grad, v>). "hvp/grad" is the ratio
   of the two; PyTorch's numbers use torch.autograd.grad the same way (its
   ``torch.autograd.functional.hvp`` takes a second trick pass; that is not
   what a user who wants speed writes, and not what we do). "compiled" is the
   same HVP as a ``tg.compile``d function (traced, then replayed without
   Python dispatch); "c/grad" its ratio to the eager gradient.
2. Batch and layer norm alone at (4096, 1024): the double backward, i.e. the
   gradient of <dL/dx, v> in x where L = sum(w * norm(x)), given the first
   pass (create_graph) already ran.

Every figure is the median of ``repeats`` rounds in milliseconds; within a
round the contenders run one after another, so load on the machine hits all
alike, and each runs once untimed and then ``calls`` times timed (the mean).
"""
import argparse
import statistics
import time

import numpy as np

import tinygrad_bn as tg
from tinygrad_bn.models import SimpleNetBN

try:
    import torch
except ImportError:  # PyTorch is never a dependency; the comparison is optional
    torch = None


def _timed(fn, calls):
    fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls * 1e3


def _ours_model(batch, rng):
    tg.manual_seed(0)
    model = SimpleNetBN()
    x = tg.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 10, batch))
    params = list(model.parameters())
    vs = [tg.tensor(rng.standard_normal(p.shape).astype(np.float32)) for p in params]
    loss_fn = tg.nn.CrossEntropyLoss()

    def grad():
        tg.grad(loss_fn(model(x), y), params)

    def hvp():
        grads = tg.grad(loss_fn(model(x), y), params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(grads, vs))
        return tg.grad(dot, params)

    compiled = tg.compile(hvp)
    for _ in range(4):  # traced until two runs agree, then replayed
        compiled()
    assert next(iter(compiled._entries.values())).replay is not None, "the HVP was not compiled"
    return model, grad, hvp, compiled


def _torch_model(ours, batch, rng):
    torch.manual_seed(0)
    layers = []
    for m in ours.layers:
        name = type(m).__name__
        if name == "Linear":
            lin = torch.nn.Linear(m.in_features, m.out_features)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(m.weight.detach().numpy()))
                lin.bias.copy_(torch.from_numpy(m.bias.detach().numpy()))
            layers.append(lin)
        elif name == "BatchNorm1d":
            layers.append(torch.nn.BatchNorm1d(m.num_features))
        else:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    x = torch.from_numpy(rng.standard_normal((batch, 784)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, batch))
    params = list(model.parameters())
    vs = [torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32)) for p in params]
    loss_fn = torch.nn.CrossEntropyLoss()

    def grad():
        torch.autograd.grad(loss_fn(model(x), y), params)

    def hvp():
        grads = torch.autograd.grad(loss_fn(model(x), y), params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(grads, vs))
        torch.autograd.grad(dot, params)

    return grad, hvp


def _norm_double_backward(lib, kind, shape, rng):
    """(first pass with create_graph, then the timed second pass) for one framework."""
    x_np = rng.standard_normal(shape).astype(np.float32)
    w_np = rng.standard_normal(shape).astype(np.float32)
    v_np = rng.standard_normal(shape).astype(np.float32)
    if lib == "ours":
        x, w, v = tg.tensor(x_np, requires_grad=True), tg.tensor(w_np), tg.tensor(v_np)
        F, grad = tg.nn.functional, tg.grad
    else:
        x, w, v = torch.from_numpy(x_np).requires_grad_(), torch.from_numpy(w_np), torch.from_numpy(v_np)
        F, grad = torch.nn.functional, torch.autograd.grad
    if kind == "batch":
        def norm(a): return F.batch_norm(a, None, None, training=True)
    else:
        def norm(a): return F.layer_norm(a, (shape[-1],))

    def second():
        (g,) = grad((norm(x) * w).sum(), x, create_graph=True)
        t0 = time.perf_counter()
        grad((g * v).sum(), x)
        return (time.perf_counter() - t0) * 1e3
    return second


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--calls", type=int, default=10, help="timed calls per round (SimpleNetBN table)")
    p.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    p.add_argument("--norm-shape", type=int, nargs=2, default=[4096, 1024])
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"threads: numba {tg.get_num_threads()}" + (f", torch {torch.get_num_threads()}" if torch else "")
          + f"; median of {args.repeats} rounds, ms")

    print("\nSimpleNetBN, float32: a gradient and a Hessian-vector product of the training loss")
    header = f"{'batch':>6} {'grad':>9} {'hvp':>9} {'hvp/grad':>9} {'compiled':>9} {'c/grad':>7}"
    if torch:
        header += f" {'torch grad':>11} {'torch hvp':>10} {'hvp/torch':>10} {'c/torch':>8}"
    print(header)
    for batch in args.batches:
        model, grad, hvp, compiled = _ours_model(batch, rng)
        contenders = {"grad": grad, "hvp": hvp, "chvp": compiled}
        if torch:
            tgrad, thvp = _torch_model(model, batch, rng)
            contenders.update({"tgrad": tgrad, "thvp": thvp})
        times = {k: [] for k in contenders}
        for _ in range(args.repeats):
            for k, fn in contenders.items():
                times[k].append(_timed(fn, args.calls))
        med = {k: statistics.median(v) for k, v in times.items()}
        row = (f"{batch:>6} {med['grad']:>9.2f} {med['hvp']:>9.2f} {med['hvp'] / med['grad']:>9.2f} "
               f"{med['chvp']:>9.2f} {med['chvp'] / med['grad']:>7.2f}")
        if torch:
            row += (f" {med['tgrad']:>11.2f} {med['thvp']:>10.2f} {med['hvp'] / med['thvp']:>10.2f}"
                    f" {med['chvp'] / med['thvp']:>8.2f}")
        print(row)

    shape = tuple(args.norm_shape)
    print(f"\nDouble backward at {shape}, float32: the gradient of <dL/dx, v> after a create_graph pass")
    print(f"{'norm':>6} {'ours':>9}" + (f" {'torch':>9} {'ours/torch':>11}" if torch else ""))
    for kind in ("batch", "layer"):
        contenders = {"ours": _norm_double_backward("ours", kind, shape, rng)}
        if torch:
            contenders["torch"] = _norm_double_backward("torch", kind, shape, rng)
        times = {k: [] for k in contenders}
        for _ in range(args.repeats):
            for k, fn in contenders.items():
                fn()
                times[k].append(fn())
        med = {k: statistics.median(v) for k, v in times.items()}
        row = f"{kind:>6} {med['ours']:>9.1f}"
        if torch:
            row += f" {med['torch']:>9.1f} {med['ours'] / med['torch']:>11.2f}"
        print(row)


if __name__ == "__main__":
    main()
