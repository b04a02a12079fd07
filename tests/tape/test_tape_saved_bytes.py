"""What a Tape reports as saved for backward: the bytes of the arrays an op keeps that
only the tape keeps alive (its saved intermediates and outputs; not leaves, which live
anyway), an array saved twice counted once, and nothing at all for an op that saves
nothing; the summary is the sum over the ops."""
import numpy as np

import tinygrad_bn as tg
from tinygrad_bn.tape import Tape


class SavesTwo(tg.autograd.Function):
    """A Tensor-level Function saving its first input, its second (a leaf) and a None."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b, None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b, _ = ctx.saved_tensors
        return g * b, g * a


def test_saved_bytes_are_the_arrays_the_tape_alone_keeps():
    x = tg.tensor(np.linspace(0.1, 0.5, 5), requires_grad=True)  # float64: 8 bytes a value
    w = tg.tensor(np.ones((5, 3), dtype=np.float32), requires_grad=True)  # float32: 4 bytes
    with Tape() as tape:
        a = x.exp()  # saves its output: 5 * 8
        b = a * a  # saves a twice: counted once
        c = SavesTwo.apply(b, tg.tensor(np.ones(1)))  # b (40) and a constant leaf (not counted)
        c.sum()  # saves nothing
        (x * x).sum()  # saves only the leaf x
        w.exp().sum()  # 15 * 4
    got = [(e.op, e.saved_bytes) for e in tape.entries]
    assert got == [("Exp", 40), ("Mul", 40), ("SavesTwo", 40), ("Sum", 0), ("Mul", 0), ("Sum", 0),
                   ("Exp", 60), ("Sum", 0)]
    assert tape.summary()["saved_bytes"] == 180
