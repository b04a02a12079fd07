"""histogram with a tensor of bin edges that repeat (non-decreasing, as
NumPy and PyTorch take them): the zero-width bin counts nothing and the
others count as usual; the edges come back as given."""
import numpy as np

import tinygrad_bn as tg

X = np.array([0.5, 1.0, 1.5, 2.0, 0.2, 3.0, -1.0])


def test_a_repeated_edge_makes_an_empty_bin():
    edges = np.array([0.0, 1.0, 1.0, 2.0])
    hist, out_edges = tg.histogram(tg.tensor(X), bins=tg.tensor(edges))
    want, _ = np.histogram(X, bins=edges)  # [2, 0, 3]: 1.0 and 2.0 fall in the last bin, closed on the right
    np.testing.assert_array_equal(hist.numpy(), want)
    np.testing.assert_array_equal(hist.numpy(), [2.0, 0.0, 3.0])
    np.testing.assert_array_equal(out_edges.numpy(), edges)


def test_edges_all_equal_but_the_ends():
    edges = np.array([0.0, 0.0, 0.0, 4.0])
    hist, _ = tg.histogram(tg.tensor(X), bins=tg.tensor(edges))
    np.testing.assert_array_equal(hist.numpy(), np.histogram(X, bins=edges)[0])
    assert hist.numpy().sum() == 6  # every value in [0, 4]
