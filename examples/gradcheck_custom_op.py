"""Check your own op with gradcheck and Hypothesis.

    python examples/gradcheck_custom_op.py

Softplus(x) = log(1 + exp(x)) has derivative sigmoid(x). ``Softplus`` has the
right backward; ``BadSoftplus`` forgets the exp in it. gradcheck passes the first
and Hypothesis finds, and shrinks, an input on which the second fails.
"""
import numpy as np
from hypothesis import given, settings

import tinygrad_bn as tg
from tinygrad_bn.testing import GradcheckError, gradcheck
from tinygrad_bn.testing import strategies as tst


class Softplus(tg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)  # log(1 + exp(x)) without overflow

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + np.exp(-x))  # sigmoid(x)


class BadSoftplus(Softplus):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1.0 + x * x)  # wrong: not the derivative


def check(op):
    @settings(max_examples=50, deadline=None, derandomize=True)
    @given(tst.tensors(shape=tst.shapes(max_dims=2, max_side=4)))
    def prop(x):
        assert gradcheck(op.apply, x)

    prop()


def main():
    x = tg.tensor(np.linspace(-3, 3, 7), requires_grad=True)
    print("gradcheck(Softplus):", gradcheck(Softplus.apply, x))
    check(Softplus)
    print("Hypothesis: Softplus passes 50 drawn tensors")
    try:
        check(BadSoftplus)
    except GradcheckError as err:
        print("Hypothesis found a failing input for BadSoftplus; after shrinking:")
        for note in getattr(err, "__notes__", []):  # Hypothesis attaches the minimal example here
            print(f"  {note}")
        print(f"  {err}")
        print(f"  input {err.input_index}, index {err.index}: analytic {err.analytic:.6g}, "
              f"numeric {err.numeric:.6g}, relative error {err.rel_error:.3g}")
    else:
        raise SystemExit("BadSoftplus passed: the check is broken")


if __name__ == "__main__":
    main()
