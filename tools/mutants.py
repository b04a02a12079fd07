"""The planted bugs tools/mutate.py runs the suite against: plausible mistakes
(a dropped term, a swapped index, an off-by-one chunk, a lost float32 residual,
a boundary moved by one comparison), each with the tests meant to catch it."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str
    old: str
    new: str
    what: str
    tests: tuple


KERNEL_TESTS = ("tests/test_kernels_reference.py", "tests/test_norm.py", "tests/test_properties_norm.py",
                "tests/test_kernel_runtime.py")
STATS_TESTS = ("tests/test_stats_kernel.py",)
OPS_TESTS = ("tests/test_op_boundaries.py", "tests/test_ops_grad.py", "tests/test_properties_ops.py",
             "tests/test_tensor.py")
ENGINE_TESTS = ("tests/test_engine_rules.py", "tests/test_engine.py", "tests/test_engine_walk.py",
                "tests/test_grad_mode.py", "tests/test_inplace_operators.py")
NN_TESTS = ("tests/test_nn.py", "tests/test_norm.py", "tests/test_pytorch_api.py", "tests/test_options.py")
OPTIM_TESTS = ("tests/test_optim.py", "tests/test_options.py")
SAVE_TESTS = ("tests/test_serialization.py",)
TESTING_TESTS = ("tests/test_testing_tools.py",)
DATA_TESTS = ("tests/test_data.py",)
DISTRIBUTED_TESTS = ("tests/test_distributed.py",)

LN = "kernels/cpu/layernorm.py"
BN = "kernels/cpu/batchnorm.py"
GN = "kernels/cpu/groupnorm.py"
COMMON = "kernels/cpu/_common.py"
EW = "tinygrad_bn/ops/elementwise.py"

MUTANTS = [
    # ---------------------------------------------------------------- layer norm kernels
    Mutant("LN-1", LN, "        mean[r] = k + m\n        invstd[r] = inv\n        d = xr.dtype.type(m)\n        iv",
           "        mean[r] = m\n        invstd[r] = inv\n        d = xr.dtype.type(m)\n        iv",
           "forward saves the shifted mean, without the shift", KERNEL_TESTS),
    Mutant("LN-2", LN, "_dx_row(x3, g3, d3, gamma, k3, e3, v3, ty(a3 / width), ty(b3 / width))",
           "_dx_row(x3, g3, d3, gamma, k3, e3, v3, ty(a3 / width), ty(b2 / width))",
           "backward: the fourth row of a block uses the third row's mean(g * x_hat)", KERNEL_TESTS),
    Mutant("LN-3", LN, "    while r < r1:\n        xr, gr, dr = x[r], dy[r], dx[r]",
           "    while r + 1 < r1:\n        xr, gr, dr = x[r], dy[r], dx[r]",
           "backward skips the last row left over after the blocks of four", KERNEL_TESTS),
    Mutant("LN-4", LN, "_backward_rows(x, dy, mean, invstd, gamma, dx, part[t, 0], part[t, 1], bounds[t], bounds[t + 1])",
           "_backward_rows(x, dy, mean, invstd, gamma, dx, part[t, 1], part[t, 0], bounds[t], bounds[t + 1])",
           "parallel backward writes dgamma into dbeta's partial and back", KERNEL_TESTS),
    Mutant("LN-5", LN, "        _forward_rows(x, gamma, beta, eps, y, mean, invstd, bounds[t], bounds[t + 1])",
           "        _forward_rows(x, gamma, beta, eps, y, mean, invstd, bounds[t], bounds[t + 1] - 1)",
           "parallel forward leaves the last row of each chunk out", KERNEL_TESTS),
    Mutant("LN-6", LN, "        sgx += np.float64(g * (((xr[j] - k) - d) * iv))",
           "        sgx += np.float64(g * ((xr[j] - k) * iv))",
           "backward drops the float32 residual of the mean in mean(g * x_hat) (remainder rows)", KERNEL_TESTS),
    Mutant("LN-7", LN, "        pb[j] += np.float64((g0[j] + g1[j]) + (g2[j] + g3[j]))",
           "        pb[j] += np.float64((g0[j] + g1[j]) + g2[j])",
           "dbeta loses the fourth row of each block", KERNEL_TESTS),
    Mutant("LN-8", LN, "        inv = 1.0 / np.sqrt(max(s2 / width - m * m, 0.0) + eps)",
           "        inv = 1.0 / np.sqrt(max(s2 / width - m * m, 0.0) + eps * eps)",
           "forward squares eps", KERNEL_TESTS),
    # ---------------------------------------------------------------- batch norm kernels
    Mutant("BN-1", BN, "            s1[j] += np.float64((p + q) + (r + t))",
           "            s1[j] += np.float64((p + q) + r)",
           "statistics lose the fourth row of each block of four", KERNEL_TESTS),
    Mutant("BN-2", BN, "            t1 = 0.0\n            t2 = 0.0\n            for i in range(length):\n"
                       "                p = np.float64(ar[i] - k1)\n                t1 += p\n"
                       "                t2 += p * np.float64((br[i] - k2) - d2)",
           "            t1 = ar[0] - ar[0]\n            t2 = ar[0] - ar[0]\n            for i in range(length):\n"
           "                p = ar[i] - k1\n                t1 += p\n                t2 += p * ((br[i] - k2) - d2)",
           "(N, C, L) statistics accumulate in the input dtype (float32) instead of float64", KERNEL_TESTS),
    Mutant("BN-3", BN, "    d = (mean - k).astype(dt)\n    zero = np.zeros(channels, dt)",
           "    d = np.zeros(channels, dt)\n    zero = np.zeros(channels, dt)",
           "backward drops the float32 residual of the mean (large inputs)", KERNEL_TESTS),
    Mutant("BN-4", BN, "    d = (mean - k).astype(xv.dtype)\n    sdy = np.zeros(channels)",
           "    d = np.zeros(channels, xv.dtype)\n    sdy = np.zeros(channels)",
           "small-input backward drops the float32 residual of the mean", KERNEL_TESTS),
    Mutant("BN-5", BN, "        _grad2d(x, dy, dx, k, d, scale, mdy, coef, bounds[t], bounds[t + 1])",
           "        _grad2d(x, dy, dx, k, d, scale, mdy, coef, bounds[t], bounds[t + 1] - 1)",
           "parallel backward skips the last row of each chunk", KERNEL_TESTS),
    Mutant("BN-6", BN, "    invstd = 1.0 / np.sqrt(vector(who, \"running_var\", running_var, channels) + eps)",
           "    invstd = 1.0 / np.sqrt(vector(who, \"running_var\", running_var, channels))",
           "eval forward leaves eps out of the running variance", KERNEL_TESTS),
    Mutant("BN-7", BN, "    _run(1, xv, xv, y, k, (rm - k).astype(dt), (gamma * invstd).astype(dt), beta.astype(dt))",
           "    _run(1, xv, xv, y, k, np.zeros(channels, dt), (gamma * invstd).astype(dt), beta.astype(dt))",
           "eval forward drops the float32 residual of the running mean", KERNEL_TESTS),
    Mutant("BN-8", BN, "                t2 += p * np.float64((br[i] - k2) - d2)",
           "                t2 += p * np.float64(br[i] - k2)",
           "(N, C, L) backward drops the float32 residual of the mean", KERNEL_TESTS),
    # ---------------------------------------------------------------- group norm kernels
    Mutant("GN-1", GN, "        c0 = (r % groups) * width\n        for j in range(width):\n            yr[j]",
           "        c0 = (r // groups % groups) * width\n        for j in range(width):\n            yr[j]",
           "(N, C) forward picks gamma/beta by the wrong group", KERNEL_TESTS),
    Mutant("GN-2", GN, "            sgx += t_dyx * gamma[c0 + j]", "            sgx += t_dyx",
           "(N, C) backward forgets gamma in mean(g * x_hat)", KERNEL_TESTS),
    Mutant("GN-3", GN, "        s1 = 0.0\n        s2 = 0.0\n        for i in range(per_group):\n            for l in range(length):\n"
                       "                p = np.float64(xr[i, l] - k)",
           "        s1 = xr[0, 0] - xr[0, 0]\n        s2 = xr[0, 0] - xr[0, 0]\n        for i in range(per_group):\n"
           "            for l in range(length):\n                p = xr[i, l] - k",
           "(N, C, L) forward accumulates its statistics in float32", KERNEL_TESTS),
    Mutant("GN-4", GN, "            pg[c0 + i] += t_dyx\n            pb[c0 + i] += t_dy",
           "            pg[c0 + i] += t_dy\n            pb[c0 + i] += t_dyx",
           "(N, C, L) backward swaps dgamma and dbeta", KERNEL_TESTS),
    # ---------------------------------------------------------------- shared kernel pieces
    Mutant("CK-1", COMMON, "    return np.array([total * i // parts for i in range(parts + 1)], dtype=np.int64)",
           "    return np.array([total // parts * i for i in range(parts + 1)], dtype=np.int64)",
           "the chunker drops the remainder rows", KERNEL_TESTS),
    Mutant("CK-2", COMMON, "    total = part.sum(axis=0)", "    total = part[0] + part[-1]",
           "only the first and last chunks' partials are summed", KERNEL_TESTS),
    Mutant("CK-3", COMMON, "        serial_kernel(*args, s1, s2, 0, rows)\n        return s1, s2",
           "        serial_kernel(*args, s1, s2, 0, rows)\n        return s2, s1",
           "the serial path returns the two reductions swapped", KERNEL_TESTS),
    Mutant("ST-1", "kernels/cpu/stats.py", "    for p in range(parts):\n        s += sums[p, 0]",
           "    for p in range(parts - 1):\n        s += sums[p, 0]",
           "the parallel summary drops the last chunk's sum", STATS_TESTS),
    Mutant("ST-2", "kernels/cpu/stats.py", "            m = b if b > m else m", "            m = b if b < m else m",
           "the max-magnitude tracks the minimum", STATS_TESTS),
    # ---------------------------------------------------------------- ops
    Mutant("OP-1", EW, "            local = be.where(be.equal(b, 0), 0, local)\n", "",
           "x ** 0 gets NaN gradient at x = 0", OPS_TESTS),
    Mutant("OP-2", EW, "            safe = be.where(be.greater(a, 0), a, 1)",
           "            safe = be.where(be.greater_equal(a, 0), a, 1)",
           "pow's exponent gradient is NaN at a = 0", OPS_TESTS),
    Mutant("OP-3", EW, "be.mul(be.cast(be.equal(a, b), dtype), 0.5))",
           "be.mul(be.cast(be.equal(a, b), dtype), 1.0))",
           "maximum/minimum ties give the full gradient to both sides", OPS_TESTS),
    Mutant("OP-4", EW, "mask = be.logical_and(mask, be.greater_equal(a, ctx.lo))",
           "mask = be.logical_and(mask, be.greater(a, ctx.lo))",
           "clip blocks the gradient exactly at min", OPS_TESTS),
    Mutant("OP-5", EW, "mask = be.logical_and(mask, be.less_equal(a, ctx.hi))",
           "mask = be.logical_and(mask, be.less(a, ctx.hi))",
           "clip blocks the gradient exactly at max", OPS_TESTS),
    Mutant("OP-6", EW, "        return ctx.backend.mul(g, ctx.backend.sign(a))",
           "        return ctx.backend.mul(g, ctx.backend.where(ctx.backend.greater_equal(a, 0), 1.0, -1.0))",
           "abs has gradient 1 at 0", OPS_TESTS),
    Mutant("OP-7", EW, "        return be.where(be.greater(a, 0), g, be.mul(g, ctx.slope)), None",
           "        return be.where(be.greater_equal(a, 0), g, be.mul(g, ctx.slope)), None",
           "leaky_relu has gradient 1 at 0", OPS_TESTS),
    Mutant("OP-8", "tinygrad_bn/ops/movement.py", "            total += n\n            bounds.append(total)",
           "            total += n\n            bounds.append(n)",
           "cat's backward splits at sizes, not offsets (wrong for three or more inputs)", OPS_TESTS),
    Mutant("OP-9", "tinygrad_bn/ops/reduce.py", "        return be.mul(mask, be.div(g, count)), None, None",
           "        return be.mul(mask, g), None, None", "max/min ties each get the whole gradient", OPS_TESTS),
    Mutant("OP-10", "tinygrad_bn/ops/reduce.py",
           "        return be.sub(gy, be.mul(out, be.sum(gy, axis=ctx.axis, keepdims=True))), None",
           "        return be.sub(gy, be.mul(out, be.sum(gy, axis=None, keepdims=True))), None",
           "softmax's backward sums over every axis, not its dim", OPS_TESTS),
    Mutant("OP-11", "tinygrad_bn/ops/reduce.py", "        denom = count - correction", "        denom = count - 1",
           "var ignores correction", OPS_TESTS),
    Mutant("OP-12", EW, "        return be.mul(g, be.sub(1, be.mul(out, out)))",
           "        return be.mul(g, be.sub(1, out))", "tanh's derivative is 1 - y", OPS_TESTS),
    Mutant("OP-13", "tinygrad_bn/ops/loss.py", "        return be.mul(scale, be.div(g, ctx.count))",
           "        return be.mul(scale, be.div(g, be.cast(be.size(ctx.valid), g.dtype)))",
           "mean loss divides by all rows, ignored ones included", OPS_TESTS + ("tests/test_nn.py",)),
    # ---------------------------------------------------------------- engine
    Mutant("EN-1", "tinygrad_bn/engine.py", "    run_backward(outputs, gos, bool(retain_graph), sink)",
           "    run_backward(outputs, gos, True, sink)",
           "grad() keeps the graph: a second backward without retain_graph passes", ENGINE_TESTS),
    Mutant("EN-2", "tinygrad_bn/function.py", "            for t in results + args:\n                if isinstance(t, Tensor) and s is t._data:",
           "            for t in args:\n                if isinstance(t, Tensor) and s is t._data:",
           "an in-place change to a saved output goes unnoticed", ENGINE_TESTS),
    Mutant("EN-3", "tinygrad_bn/grad_mode.py", "    def _exit(self, previous):\n        GradMode.enabled = previous",
           "    def _exit(self, previous):\n        GradMode.enabled = True",
           "leaving a nested no_grad turns recording on", ENGINE_TESTS),
    Mutant("EN-4", "tinygrad_bn/engine.py", "            be.iadd(leaf.grad._data, g)",
           "            be.copyto(leaf.grad._data, g)", "a second backward overwrites .grad instead of adding",
           ENGINE_TESTS),
    # ---------------------------------------------------------------- nn
    Mutant("NN-1", "tinygrad_bn/nn/functional.py", "    mask = be.bernoulli_mask(1.0 - p, input.shape, input.dtype)",
           "    mask = be.bernoulli_mask(1.0 - p, input.shape, \"float32\")",
           "dropout's mask is float32 whatever the input", NN_TESTS),
    Mutant("NN-2", "tinygrad_bn/nn/functional.py", "    return input * Tensor._wrap(be.mul(mask, 1.0 / (1.0 - p)), be)",
           "    return input * Tensor._wrap(be.mul(mask, 1.0 / p), be)",
           "dropout scales by 1/p (right only at p = 0.5)", NN_TESTS),
    Mutant("NN-3", "tinygrad_bn/nn/init.py", "    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))",
           "    bound = gain * math.sqrt(3.0 / (fan_in + fan_out))", "xavier_uniform_'s bound is too small",
           NN_TESTS),
    Mutant("NN-4", "tinygrad_bn/nn/init.py", "    return fan_in if mode == \"fan_in\" else fan_out",
           "    return fan_in", "kaiming ignores mode='fan_out'", NN_TESTS),
    Mutant("NN-5", "tinygrad_bn/nn/functional.py",
           "        _update_running(running_var, be.mul(var._data, count / (count - 1)), momentum)",
           "        _update_running(running_var, var._data, momentum)",
           "running_var tracks the biased batch variance", NN_TESTS),
    Mutant("NN-6", "tinygrad_bn/nn/utils.py", "        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)",
           "        coef = max_norm / (total + 1e-6)", "clip_grad_norm_ scales small gradients up", NN_TESTS),
    Mutant("NN-7", "tinygrad_bn/nn/layers.py", "            bound = 1.0 / math.sqrt(self.in_features)",
           "            bound = 1.0 / math.sqrt(self.out_features)", "Linear's bias bound uses out_features",
           NN_TESTS),
    Mutant("NN-8", "tinygrad_bn/nn/functional.py",
           "        _update_running(running_var, be.mean(var, axis=0), momentum)",
           "        _update_running(running_var, be.mean(var, axis=0), 1.0 - momentum)",
           "instance norm's running_var moves by 1 - momentum", NN_TESTS),
    # ---------------------------------------------------------------- optim
    Mutant("OPT-1", "tinygrad_bn/optim/adam.py", "        if group[\"maximize\"]:\n            grad = be.neg(grad)",
           "        if group[\"maximize\"]:\n            grad = grad", "Adam's maximize does nothing", OPTIM_TESTS),
    Mutant("OPT-2", "tinygrad_bn/optim/adam.py", "        bias2 = 1.0 - b2 ** t", "        bias2 = 1.0 - b2 ** (t - 1) if t > 1 else 1.0",
           "Adam's second-moment bias correction is a step late", OPTIM_TESTS),
    Mutant("OPT-3", "tinygrad_bn/optim/adam.py", "                p._write(\"imul\", 1.0 - lr * wd)",
           "                p._write(\"imul\", 1.0 - wd)", "AdamW decays without the learning rate", OPTIM_TESTS),
    Mutant("OPT-4", "tinygrad_bn/optim/adam.py", "            be.copyto(vmax, be.maximum(vmax, v))",
           "            be.copyto(vmax, v)", "amsgrad keeps the latest, not the largest, second moment",
           OPTIM_TESTS),
    Mutant("OPT-5", "tinygrad_bn/optim/sgd.py", "                be.axpy(buf, 1.0 - group[\"dampening\"], grad)",
           "                be.axpy(buf, 1.0, grad)", "SGD ignores dampening", OPTIM_TESTS),
    Mutant("OPT-6", "tinygrad_bn/optim/sgd.py", "            grad = be.add(grad, be.mul(buf, momentum)) if group[\"nesterov\"] else buf",
           "            grad = be.add(grad, buf) if group[\"nesterov\"] else buf",
           "Nesterov forgets the momentum factor", OPTIM_TESTS),
    Mutant("OPT-7", "tinygrad_bn/optim/rmsprop.py", "            denom = be.add(be.sqrt(be.sub(v, be.mul(a, a))), eps)",
           "            denom = be.add(be.sqrt(v), eps)", "centered RMSprop is not centered", OPTIM_TESTS),
    Mutant("OPT-8", "tinygrad_bn/optim/lr_scheduler.py",
           "        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]",
           "        return [b * self.gamma ** (self.last_epoch / self.step_size) for b in self.base_lrs]",
           "StepLR decays every epoch, smoothly", OPTIM_TESTS),
    Mutant("OPT-9", "tinygrad_bn/optim/sgd.py", "        if group[\"maximize\"]:\n            grad = be.neg(grad)",
           "        if group[\"maximize\"]:\n            grad = grad", "SGD's maximize does nothing", OPTIM_TESTS),
    # ---------------------------------------------------------------- saving
    Mutant("SV-1", "tinygrad_bn/serialization.py",
           "    fd, tmp = tempfile.mkstemp(prefix=\".tmp-\", suffix=suffix, dir=folder)",
           "    fd, tmp = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), path",
           "save writes the target file in place, not through a temporary file", SAVE_TESTS),
    Mutant("SV-2", "tinygrad_bn/serialization.py", "        with np.load(path, allow_pickle=False) as files:",
           "        with np.load(path, allow_pickle=True) as files:", "load allows pickles", SAVE_TESTS),
    Mutant("SV-3", "tinygrad_bn/serialization.py",
           "        return tuple(_decode(v, files) for v in node[\"tuple\"])",
           "        return [_decode(v, files) for v in node[\"tuple\"]]", "tuples load back as lists",
           SAVE_TESTS),
    Mutant("SV-4", "tinygrad_bn/serialization.py", "            if dtype.hasobject:",
           "            if False:", "the size check lets object (pickle) headers through", SAVE_TESTS),
    # ---------------------------------------------------------------- testing tools
    Mutant("TT-1", "tinygrad_bn/testing/gradcheck.py", "    weights = [rng.standard_normal(o.shape) for o in outs]",
           "    weights = [np.ones(o.shape) for o in outs]",
           "gradcheck compares d(sum of outputs) instead of a random projection", TESTING_TESTS),
    Mutant("TT-2", "tinygrad_bn/testing/gradcheck.py", "        for k, i in enumerate(diff):",
           "        for k, i in enumerate(diff[:1]):", "gradcheck checks only the first input", TESTING_TESTS),
    # ---------------------------------------------------------------- distributed
    Mutant("DI-1", "tinygrad_bn/distributed/syncbn.py",
           "        m2 = _allreduce(n_local * var_k + n_local * (mean_k - mean) ** 2)",
           "        m2 = _allreduce(n_local * var_k)",
           "SyncBatchNorm forgets the spread of the ranks' means in the global variance", DISTRIBUTED_TESTS),
    Mutant("DI-2", "tinygrad_bn/distributed/syncbn.py",
           "        dx = dx_eval - scale * (sum_dy.reshape(shape) + xhat * sum_dy_xhat.reshape(shape)) / ctx.n",
           "        dx = dx_eval - scale * sum_dy.reshape(shape) / ctx.n",
           "SyncBatchNorm's dx loses the x_hat term", DISTRIBUTED_TESTS),
    Mutant("DI-3", "tinygrad_bn/distributed/buckets.py", "    flat /= world\n", "",
           "DistributedDataParallel sums the gradients instead of averaging them", DISTRIBUTED_TESTS),
    # ---------------------------------------------------------------- data
    Mutant("DA-1", "tinygrad_bn/data/loader.py",
           "            if self.drop_last and len(idx) < self.batch_size:\n                return",
           "            if len(idx) < self.batch_size:\n                return",
           "the loader always drops the short last batch", DATA_TESTS),
    Mutant("DA-2", "tinygrad_bn/data/loader.py", "            counts[i % len(counts)] += 1",
           "            counts[-1 - i % len(counts)] += 1",
           "random_split spreads the remainder from the last split, not the first", DATA_TESTS),
]
