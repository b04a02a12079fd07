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
]
