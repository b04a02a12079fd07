"""Mutants of tools/mutate_sample.py that change no behaviour a test could see,
each with the reason. The sampled run reads this list and counts these
mutants as "equivalent", not as killed or survived.

An entry is (path, operator, line before, line after, reason): the lines as
the run prints them (stripped), so an entry follows its code when lines move
and lapses when the line itself changes. Add one only with a reason a
reviewer can check by reading the line; a mutant that changes only speed or
memory is not equivalent (a benchmark, not a test, should catch it, and the
run counts it as a survivor).
"""

EQUIVALENT = [
    ("tinygrad_bn/autograd/functional.py", "core/ReplaceFalseWithTrue",
     'def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):',
     'def hessian(func, inputs, create_graph=False, strict=False, vectorize=True, outer_jacobian_strategy="reverse-mode"):',
     "vectorize is taken for PyTorch's signature and changes nothing (the module docstring says so)"),
    ("tinygrad_bn/autograd/functional.py", "core/ReplaceFalseWithTrue",
     'def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):',
     'def jacobian(func, inputs, create_graph=False, strict=False, vectorize=True, strategy="reverse-mode"):',
     "vectorize is taken for PyTorch's signature and changes nothing (the module docstring says so)"),
    ("kernels/cpu/stats.py", "core/NumberReplacer",
     "counts = np.zeros((parts, 2), np.int64)", "counts = np.zeros((parts, 3), np.int64)",
     "a third column of counts is never written or read: the summary reads columns 0 and 1"),
    ("tinygrad_bn/nn/normalization.py", "core/NumberReplacer",
     "return 0 if self.warmup is None else int(self.num_batches_tracked.item())",
     "return 1 if self.warmup is None else int(self.num_batches_tracked.item())",
     "without a warm-up _limits_at returns (r_max, d_max) whatever the step"),
    ("tinygrad_bn/distributions/constraints.py", "core/ReplaceBinaryOperator_Mul_BitAnd",
     "return zero_or_one * (value.sum(-1) == 1)", "return zero_or_one & (value.sum(-1) == 1)",
     "both operands are bool tensors, where * and & are the same (a bool tensor)"),
    ("tinygrad_bn/ops/norm.py", "core/RemoveDecorator", "@staticmethod", "",
     "Function.apply calls cls.forward / cls.backward on the class, where a plain function is the same function"),
    ("tinygrad_bn/tensor_linalg.py", "core/NumberReplacer",
     "if self.shape[1] != vec.shape[0]:", "if self.shape[1] != vec.shape[ -1]:",
     "vec is checked to be 1-D just above, so its first dim is its last"),
    ("tinygrad_bn/experiments/weight_init.py", "core/ReplaceComparisonOperator_Eq_Is",
     'str(sc): sum(r["diverged"] for r in runs if r["bn"] == bn and r["scale"] == sc) for sc in scales}',
     'str(sc): sum(r["diverged"] for r in runs if r["bn"] == bn and r["scale"] is sc) for sc in scales}',
     "each run's scale is the very float object taken from scales in the same function, so == and is agree"),
    ("tinygrad_bn/experiments/bn_vs_plain.py", "core/NumberReplacer",
     'fig, axes = plt.subplots(2, 2, figsize=(9, 7.5), sharex="row", sharey="row")',
     'fig, axes = plt.subplots(2, 2, figsize=(9, 8.5), sharex="row", sharey="row")',
     "presentation only: the figure's size in inches; its content and the JSON are unchanged"),
    ("tinygrad_bn/experiments/small_batch.py", "core/ReplaceBinaryOperator_Pow_Sub",
     "xs = np.array(batches, float) * 2 ** ((k - 1.5) * 0.08)",
     "xs = np.array(batches, float) * 2 - ((k - 1.5) * 0.08)",
     "presentation only: the horizontal offset that keeps the curves' markers apart in the plot"),
    ("tinygrad_bn/ops/reduce.py", "core/RemoveDecorator", "@staticmethod", "",
     "Function.apply calls cls.forward / cls.backward on the class, where a plain function is the same function"),
    ("tinygrad_bn/ops/shaping.py", "core/ReplaceComparisonOperator_Eq_LtE", "if t.ndim == 0:", "if t.ndim <= 0:",
     "a tensor's ndim is never negative, so ndim <= 0 is ndim == 0"),
    ("tinygrad_bn/ops/elementwise.py", "core/RemoveDecorator", "@staticmethod", "",
     "Function.apply calls cls.forward / cls.backward on the class, where a plain function is the same function"),
    ("tinygrad_bn/counting.py", "core/ReplaceFalseWithTrue",
     "def unique_consecutive(t, return_inverse=False, return_counts=False, dim=None):",
     "def unique_consecutive(t, return_inverse=True, return_counts=False, dim=None):",
     "its only caller, Tensor.unique_consecutive (and through it tg.unique_consecutive), passes every argument"),
    ("kernels/cache_stamp.py", "core/NumberReplacer",
     "if os.path.abspath(path) != os.path.abspath(folders[0]):",
     "if os.path.abspath(path) != os.path.abspath(folders[ -1]):",
     "folders holds one entry when this line runs (the append follows it), so its first is its last"),
]
