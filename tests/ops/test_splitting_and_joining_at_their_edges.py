"""Splitting, joining and repeating ops at the ends of their arguments: a start at
either end of the dim, pieces larger than the dim, empty dims, sections that leave
empty pieces, indices past either end, 0-d inputs and repeats of zero. The expected
pieces are PyTorch 2's (torch.narrow, split, chunk, tensor_split, hsplit, ...),
written here as literals."""
import pytest

import tinygrad_bn as tg


def pieces(ts):
    return [t.tolist() for t in ts]


def test_narrow_takes_a_start_at_either_end_of_the_dim_and_no_further():
    x = tg.arange(3)
    assert tg.narrow(x, 0, 3, 0).tolist() == []  # start == size with length 0: empty, as PyTorch
    assert tg.narrow(x, 0, -3, 2).tolist() == [0, 1]  # start == -size counts from the end
    assert tg.narrow(x, 0, 1, 2).tolist() == [1, 2]  # start + length == size: up to the end
    assert tg.narrow(x, 0, 0, 2).tolist() == [0, 1]  # start 0 is the first element, not counted from the end
    with pytest.raises(IndexError, match=r"narrow: start 4 is out of range for dim 0 of size 3"):
        tg.narrow(x, 0, 4, 0)
    with pytest.raises(IndexError, match=r"narrow: start -4 is out of range"):
        tg.narrow(x, 0, -4, 1)
    with pytest.raises(RuntimeError, match=r"narrow: start \(2\) \+ length \(2\) exceeds dim 0 of size 3"):
        tg.narrow(x, 0, 2, 2)
    with pytest.raises(RuntimeError, match=r"narrow: start \(2\) \+ length \(2\) exceeds"):
        tg.narrow(x, 0, -1, 2)  # the start counted from the end, then its length


def test_split_by_a_size_larger_than_the_dim_and_of_an_empty_dim():
    x = tg.arange(5)
    assert pieces(tg.split(x, 2)) == [[0, 1], [2, 3], [4]]
    assert pieces(tg.split(tg.arange(3), 5)) == [[0, 1, 2]]
    assert pieces(tg.split(tg.arange(0), 0)) == [[]]  # PyTorch: one empty piece
    assert pieces(tg.split(tg.arange(0), 2)) == [[]]
    assert pieces(tg.split(tg.arange(3), [0, 3, 0])) == [[], [0, 1, 2], []]
    with pytest.raises(RuntimeError, match="split: split_size 0 cannot split dim 0 of size 3"):
        tg.split(tg.arange(3), 0)


def test_chunk_gives_ceil_sized_pieces_and_as_many_empty_pieces_of_an_empty_dim():
    assert pieces(tg.chunk(tg.arange(5), 3)) == [[0, 1], [2, 3], [4]]
    assert pieces(tg.chunk(tg.arange(3), 5)) == [[0], [1], [2]]
    assert pieces(tg.chunk(tg.arange(7), 7)) == [[i] for i in range(7)]
    assert pieces(tg.chunk(tg.arange(0), 3)) == [[], [], []]  # PyTorch: chunks empty pieces
    assert [t.shape for t in tg.chunk(tg.zeros(2, 0), 2, -1)] == [(2, 0), (2, 0)]
    with pytest.raises(ValueError, match="chunk: chunks must be >= 1, got 0"):
        tg.chunk(tg.arange(3), 0)


def test_tensor_split_sections_and_indices_past_either_end():
    assert pieces(tg.tensor_split(tg.arange(7), 3)) == [[0, 1, 2], [3, 4], [5, 6]]  # the first ones longer
    assert pieces(tg.tensor_split(tg.arange(2), 5)) == [[0], [1], [], [], []]
    # indices count from the end when negative and are clamped to the dim; a cut before the last is empty
    assert pieces(tg.tensor_split(tg.arange(6), [-2, 1, 9, -9])) == [[0, 1, 2, 3], [], [1, 2, 3, 4, 5], [],
                                                                    [0, 1, 2, 3, 4, 5]]
    assert pieces(tg.tensor_split(tg.arange(6), [0, 2])) == [[], [0, 1], [2, 3, 4, 5]]  # index 0: the start
    assert pieces(tg.tensor_split(tg.arange(6), tg.tensor(4))) == [[0, 1], [2, 3], [4], [5]]  # 0-d: sections
    with pytest.raises(ValueError, match="tensor_split: sections must be >= 1, got 0"):
        tg.tensor_split(tg.arange(6), 0)


def test_hsplit_vsplit_dsplit_need_sections_that_divide_the_dim():
    assert pieces(tg.hsplit(tg.arange(6), 3)) == [[0, 1], [2, 3], [4, 5]]  # 1-d: along dim 0
    assert pieces(tg.hsplit(tg.arange(6).reshape(1, 6), 2)) == [[[0, 1, 2]], [[3, 4, 5]]]  # else dim 1
    assert pieces(tg.vsplit(tg.arange(6).reshape(3, 2), 3)) == [[[0, 1]], [[2, 3]], [[4, 5]]]
    assert pieces(tg.vsplit(tg.arange(6).reshape(3, 2), [1])) == [[[0, 1]], [[2, 3], [4, 5]]]
    assert pieces(tg.dsplit(tg.arange(6).reshape(1, 1, 6), [2, 3])) == [[[[0, 1]]], [[[2]]], [[[3, 4, 5]]]]
    for fn, t, spec in [(tg.hsplit, tg.arange(6), 4), (tg.hsplit, tg.arange(6), 0), (tg.hsplit, tg.arange(6), -2),
                        (tg.vsplit, tg.zeros(3, 2), 2), (tg.dsplit, tg.zeros(1, 1, 5), 2)]:
        with pytest.raises(RuntimeError, match=f"{fn.__name__}: {spec} sections do not divide"):
            fn(t, spec)
    with pytest.raises(RuntimeError, match=r"dsplit: expected a tensor of at least 3 dims, got 2 \(shape \(1, 6\)\)"):
        tg.dsplit(tg.zeros(1, 6), 2)
    with pytest.raises(RuntimeError, match="vsplit: expected a tensor of at least 2 dims, got 1"):
        tg.vsplit(tg.zeros(6), 2)


def test_unflatten_works_out_one_minus_1_and_refuses_sizes_that_do_not_multiply():
    assert tg.arange(6).unflatten(0, (-1, 2)).tolist() == [[0, 1], [2, 3], [4, 5]]
    assert tg.arange(6).reshape(1, 6).unflatten(-1, (3, 2)).shape == (1, 3, 2)
    assert tg.arange(6).unflatten(0, (1, 6, 1)).shape == (1, 6, 1)
    for sizes in [(4, -1), (-1, -1), (2, 2), (0, -1), (-2, -3), (-2, -1)]:
        with pytest.raises(RuntimeError, match="unflatten: sizes .* do not multiply to the size of dim 0 \\(6\\)"):
            tg.arange(6).unflatten(0, sizes)


def test_stacking_0d_tensors_makes_each_one_element_of_the_right_dim():
    a, b = tg.tensor(1), tg.tensor(2)
    assert tg.hstack([a, b]).tolist() == [1, 2]
    assert tg.vstack([a, b]).tolist() == [[1], [2]]
    assert tg.dstack([a, b]).tolist() == [[[1, 2]]]
    assert tg.column_stack([a, b]).tolist() == [[1, 2]]
    assert tg.column_stack([tg.arange(4).reshape(2, 2), tg.arange(2)]).tolist() == [[0, 1, 0], [2, 3, 1]]
    assert tg.hstack([tg.arange(2).reshape(2, 1), tg.arange(4).reshape(2, 2)]).tolist() == [[0, 0, 1], [1, 2, 3]]
    with pytest.raises((IndexError, RuntimeError), match="hstack"):  # one 1-d and one 2-d: joined along dim 1, which a 1-d lacks
        tg.hstack([tg.arange(2), tg.arange(2).reshape(1, 2)])


def test_repeat_and_tile_by_zero_of_0d_tensors_and_with_fewer_dims():
    assert tg.arange(3).repeat(0, 2).shape == (0, 6)
    assert tg.tensor(5).repeat(2, 3).tolist() == [[5, 5, 5], [5, 5, 5]]
    assert tg.arange(6).reshape(2, 3).tile((2,)).tolist() == [[0, 1, 2, 0, 1, 2], [3, 4, 5, 3, 4, 5]]
    assert tg.arange(3).tile((2, 1, 2)).tolist() == [[[0, 1, 2, 0, 1, 2]], [[0, 1, 2, 0, 1, 2]]]
    assert tg.arange(3).tile(()).tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match=r"repeat: expected at least as many repeats as the tensor has dims \(2\)"):
        tg.zeros(2, 3).repeat(2)
    with pytest.raises(RuntimeError, match="repeat: repeats must be >= 0"):
        tg.zeros(2).repeat(-1)


@pytest.mark.parametrize("sizes", [(1, 1), (1, 2, 1), (3, 1)])
def test_repeat_is_a_copy_even_where_it_could_be_a_view(sizes):
    """repeat of a (1, n) tensor by 1s, or of its size-1 dim alone, could be a view; PyTorch copies."""
    x = tg.zeros(1, 2)
    out = x.repeat(*sizes)
    out[(0,) * out.ndim] = 7.0
    assert x.tolist() == [[0.0, 0.0]]


def test_repeat_interleave_at_its_edges():
    assert tg.repeat_interleave(tg.arange(3), tg.tensor(2)).tolist() == [0, 0, 1, 1, 2, 2]  # 0-d: for every one
    assert tg.repeat_interleave(tg.arange(4).reshape(2, 2), 2, dim=-1).tolist() == [[0, 0, 1, 1], [2, 2, 3, 3]]
    assert tg.repeat_interleave(tg.tensor(7), 3).tolist() == [7, 7, 7]
    assert tg.repeat_interleave(tg.arange(3), 0).tolist() == []
    assert tg.repeat_interleave(tg.arange(3), 2, output_size=6).tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(RuntimeError, match="repeat_interleave: output_size 5 does not match the repeated size 6"):
        tg.repeat_interleave(tg.arange(3), 2, output_size=5)
    with pytest.raises(RuntimeError, match="repeat_interleave: repeats must be >= 0, got -1"):
        tg.repeat_interleave(tg.arange(3), tg.tensor([1, -1, 1]))
    with pytest.raises(RuntimeError, match=r"repeat_interleave: expected 3 repeats \(the size of dim 0\), got 2"):
        tg.repeat_interleave(tg.arange(3), tg.tensor([1, 1]))


def test_broadcast_shapes_and_meshgrid_at_their_edges():
    assert tg.broadcast_shapes((2, 1), (3, 1, 1), 1) == tg.Size([3, 2, 1])
    assert tg.broadcast_shapes((0, 1), (1, 3)) == tg.Size([0, 3])
    assert tg.broadcast_shapes() == tg.Size([])
    with pytest.raises(RuntimeError, match=r"broadcast_shapes: sizes must be >= 0, got \(2, -1\)"):
        tg.broadcast_shapes((2, -1))
    assert tg.broadcast_to(tg.arange(3), (2, -1)).tolist() == [[0, 1, 2], [0, 1, 2]]
    (only,) = tg.meshgrid(tg.arange(3), indexing="xy")  # one tensor: nothing to swap
    assert only.tolist() == [0, 1, 2]
    x, y = tg.meshgrid(tg.tensor(1), tg.arange(3), indexing="xy")
    assert x.tolist() == [[1], [1], [1]] and y.tolist() == [[0], [1], [2]]
    assert [g.shape for g in tg.meshgrid(tg.arange(2), tg.arange(3), tg.arange(4), indexing="xy")] == [(3, 2, 4)] * 3
    assert tg.cartesian_prod(tg.arange(2), tg.arange(2) + 5, tg.arange(1) + 9).tolist() == [
        [0, 5, 9], [0, 6, 9], [1, 5, 9], [1, 6, 9]]


def test_movedim_and_unbind_at_their_edges():
    x = tg.arange(24).reshape(2, 3, 4)
    assert x.movedim((2, 0), (0, 1)).shape == (4, 2, 3)
    assert x.movedim(-1, 0).shape == (4, 2, 3)
    assert tg.tensor(1).movedim(0, -1).tolist() == 1
    with pytest.raises(RuntimeError, match=r"movedim: source names a dim twice: \[0, 0\]"):
        x.movedim((0, 0), (1, 2))
    with pytest.raises(RuntimeError, match=r"movedim: destination names a dim twice: \[1, 1\]"):
        x.movedim((0, 2), (1, -2))
    with pytest.raises(RuntimeError, match="movedim: source and destination must name as many dims, got 2 and 1"):
        x.movedim((0, 1), (1,))
    with pytest.raises(RuntimeError, match="movedim: source and destination must name as many dims, got 1 and 2"):
        x.movedim((0,), (1, 2))
    assert tg.zeros(0, 2).unbind(0) == ()
    assert pieces(tg.arange(6).reshape(2, 3).unbind(-1)) == [[0, 3], [1, 4], [2, 5]]
