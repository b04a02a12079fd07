"""nn.Embedding and nn.functional.embedding: the initial table, the lookup,
gradients equal to a scatter-add reference, the padding row's zero gradient,
max_norm, from_pretrained, training, and every refusal."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import backends, nn, optim
from tinygrad_bn.backends.cpu import cpu_backend
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:
    torch = None

INDICES = np.array([[0, 4, 1, 4], [2, 2, 0, 3]])


def scatter_add_reference(num_embeddings, indices, grad_out, padding_idx=None):
    """d sum(grad_out * weight[indices]) / d weight: each output's gradient added into its row."""
    ref = np.zeros((num_embeddings, grad_out.shape[-1]))
    np.add.at(ref, indices, grad_out)
    if padding_idx is not None:
        ref[padding_idx] = 0
    return ref


# ------------------------------------------------------------------ the module


def test_the_table_starts_standard_normal_with_the_padding_row_zero():
    tg.manual_seed(0)
    e = nn.Embedding(400, 100, padding_idx=7)
    w = e.weight.detach().numpy()
    assert e.weight.shape == (400, 100) and e.weight.dtype == np.float32 and e.weight.requires_grad
    assert (w[7] == 0).all()
    rest = np.delete(w, 7, axis=0).astype(np.float64)
    assert abs(rest.mean()) < 5 / np.sqrt(rest.size) and abs(rest.std() - 1) < 5 / np.sqrt(2 * rest.size)
    assert list(dict(e.named_parameters())) == ["weight"]
    assert repr(e) == "Embedding(400, 100, padding_idx=7)"


def test_a_negative_padding_idx_counts_from_the_end():
    e = nn.Embedding(5, 3, padding_idx=-2)
    assert e.padding_idx == 3 and (e.weight.detach().numpy()[3] == 0).all()
    first = nn.Embedding(5, 3, padding_idx=-5)  # -num_embeddings is row 0, as in PyTorch
    assert first.padding_idx == 0 and (first.weight.detach().numpy()[0] == 0).all()
    with pytest.raises(ValueError, match=r"padding_idx must be a row of the weight, in \[-5, 5\)"):
        nn.Embedding(5, 3, padding_idx=-6)


def test_the_lookup_is_the_rows_at_the_indices_for_any_input_shape():
    tg.manual_seed(1)
    e = nn.Embedding(5, 3)
    w = e.weight.detach().numpy()
    for idx in (INDICES, INDICES[0], np.array(4), np.zeros((2, 0), np.int64)):
        out = e(tg.tensor(idx))
        assert out.shape == idx.shape + (3,)
        np.testing.assert_array_equal(out.detach().numpy(), w[idx])
    out = e(tg.tensor(INDICES, dtype=tg.int32))  # int32 indices too, as PyTorch
    np.testing.assert_array_equal(out.detach().numpy(), w[INDICES])


@pytest.mark.parametrize("padding_idx", [None, 4, 0])
def test_the_gradient_is_the_scatter_add_and_the_padding_row_gets_none(padding_idx):
    tg.manual_seed(2)
    e = nn.Embedding(6, 3, padding_idx=padding_idx)
    g = np.random.default_rng(0).standard_normal(INDICES.shape + (3,)).astype(np.float32)
    (e(tg.tensor(INDICES)) * tg.tensor(g)).sum().backward()
    expected = scatter_add_reference(6, INDICES, g, padding_idx)
    np.testing.assert_allclose(e.weight.grad.numpy(), expected, rtol=1e-6, atol=1e-7)
    assert (e.weight.grad.numpy()[5] == 0).all()  # a row nobody looked up
    if padding_idx is not None:
        assert (e.weight.grad.numpy()[padding_idx] == 0).all()


def test_gradcheck_and_gradgradcheck_through_embedding():
    rng = np.random.default_rng(3)
    weight = tg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    idx = tg.tensor(INDICES)
    assert gradcheck(lambda w: F.embedding(idx, w), weight)
    assert gradgradcheck(lambda w: F.embedding(idx, w) ** 2, weight)
    # with padding_idx the padding row's gradient is 0 by rule, not by calculus: the
    # other rows are checked against differences, the padding row held as a constant
    rows = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    padding_row = tg.tensor(rng.standard_normal((1, 3)))

    def padded(w):
        return F.embedding(idx, tg.cat([w, padding_row]), padding_idx=4)

    assert gradcheck(padded, rows)
    assert gradgradcheck(lambda w: padded(w) ** 2, rows)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_outputs_and_gradients_agree_with_torch():
    rng = np.random.default_rng(4)
    w0 = rng.standard_normal((5, 3))
    g = rng.standard_normal(INDICES.shape + (3,))
    ours = tg.tensor(w0, requires_grad=True)
    theirs = torch.tensor(w0, requires_grad=True)
    out = F.embedding(tg.tensor(INDICES), ours, padding_idx=2)
    ref = torch.nn.functional.embedding(torch.tensor(INDICES), theirs, padding_idx=2)
    (out * tg.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), ref.detach().numpy())
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-14)


def test_training_leaves_the_padding_row_as_it_is():
    tg.manual_seed(5)
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Flatten(), nn.Linear(12, 2))
    opt = optim.SGD(model.parameters(), lr=0.5)
    x = tg.tensor([[0, 3, 5], [0, 0, 9]])
    y = tg.tensor([1, 0])
    before = model[0].weight.detach().numpy().copy()
    for _ in range(3):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()
    after = model[0].weight.detach().numpy()
    assert (after[0] == 0).all()
    assert not np.array_equal(after[3], before[3]) and np.array_equal(after[1], before[1])


# ------------------------------------------------------------------ from_pretrained and _weight


def test_from_pretrained_takes_the_table_frozen_or_not():
    table = tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    e = nn.Embedding.from_pretrained(table)
    assert e.num_embeddings == 3 and e.embedding_dim == 2 and not e.weight.requires_grad
    np.testing.assert_array_equal(e(tg.tensor([2, 0])).numpy(), [[5.0, 6.0], [1.0, 2.0]])
    assert e.weight.grad_fn is None and not e(tg.tensor([1])).requires_grad
    e = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert e.weight.requires_grad
    np.testing.assert_array_equal(e.weight.detach().numpy()[1], [3.0, 4.0])  # not zeroed, as PyTorch
    (e(tg.tensor([1, 2, 1])) * tg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(e.weight.grad.numpy(), [[0, 0], [0, 0], [3.0, 4.0]])
    table.data[0, 0] = 100.0  # a copy: the table given is not shared
    assert e.weight.detach().numpy()[0, 0] == 1.0


def test_a_given_weight_must_have_the_table_shape():
    e = nn.Embedding(2, 3, _weight=tg.ones(2, 3))
    np.testing.assert_array_equal(e.weight.detach().numpy(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="Embedding: _weight has shape \\(3, 2\\), expected \\(2, 3\\)"):
        nn.Embedding(2, 3, _weight=tg.ones(3, 2))


# ------------------------------------------------------------------ max_norm


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_max_norm_rescales_the_rows_looked_up_in_place(norm_type):
    tg.manual_seed(6)
    e = nn.Embedding(6, 4, max_norm=0.5, norm_type=norm_type)
    with tg.no_grad():
        e.weight[5] = tg.tensor([0.1, 0.0, 0.0, 0.0])  # already below the norm
    before = e.weight.detach().numpy().astype(np.float64).copy()
    out = e(tg.tensor([[0, 2], [2, 5]]))
    after = e.weight.detach().numpy().astype(np.float64)

    def norms(a):
        return np.linalg.norm(a, ord=norm_type, axis=1)

    for row in (0, 2):
        assert norms(before)[row] > 0.5
        assert norms(after)[row] == pytest.approx(0.5, rel=1e-5)
        np.testing.assert_allclose(after[row], before[row] * 0.5 / (norms(before)[row] + 1e-7), rtol=1e-6)
    np.testing.assert_array_equal(after[[1, 3, 4, 5]], before[[1, 3, 4, 5]])  # not looked up, or small enough
    np.testing.assert_allclose(out.detach().numpy(), after[[[0, 2], [2, 5]]], rtol=1e-6)


# ------------------------------------------------------------------ another device


def test_the_lookup_runs_on_the_weights_device(monkeypatch):
    be = cpu_backend("alt")
    monkeypatch.setitem(backends._BACKENDS, "alt", be)
    tg.manual_seed(7)
    e = nn.Embedding(5, 3, padding_idx=1).to("alt")
    out = e(tg.tensor(INDICES, device="alt"))
    assert out.device == "alt"
    (out * tg.ones(*out.shape, device="alt")).sum().backward()
    assert e.weight.grad.device == "alt" and (e.weight.grad.cpu().numpy()[1] == 0).all()
    with pytest.raises(RuntimeError, match="embedding: expected all tensors on the same device, got cpu and alt"):
        e(tg.tensor(INDICES))


# ------------------------------------------------------------------ refusals


def test_the_indices_must_be_an_integer_tensor_in_range():
    e = nn.Embedding(5, 3)
    with pytest.raises(TypeError, match="embedding: input must be an integer tensor of indices, got dtype float32; "
                                        "convert it with .long\\(\\)"):
        e(tg.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="embedding: input must be an integer tensor of indices, got dtype bool"):
        e(tg.tensor([True]))
    with pytest.raises(TypeError, match="embedding: input must be a Tensor, got list"):
        e([1, 2])
    with pytest.raises(IndexError, match="embedding: index 5 is out of range for a weight of 5 rows; expected "
                                         "indices in \\[0, 4\\]"):
        e(tg.tensor([[0, 5]]))
    with pytest.raises(IndexError, match="embedding: index -1 is out of range"):
        e(tg.tensor([-1, 2]))


def test_functional_embedding_checks_its_weight_and_padding_idx():
    idx = tg.tensor([0, 1])
    with pytest.raises(ValueError, match="embedding: weight must be 2-d \\(num_embeddings, embedding_dim\\), got "
                                         "shape \\(4,\\)"):
        F.embedding(idx, tg.zeros(4))
    with pytest.raises(TypeError, match="embedding: weight must be floating point, got dtype int64"):
        F.embedding(idx, tg.zeros(4, 2, dtype=tg.int64))
    with pytest.raises(ValueError, match="embedding: padding_idx must be a row of the weight, in \\[-4, 4\\) for "
                                         "num_embeddings=4, got 4"):
        F.embedding(idx, tg.zeros(4, 2), padding_idx=4)


def test_the_module_refuses_bad_settings():
    with pytest.raises(ValueError, match="Embedding: num_embeddings must be >= 1, got 0"):
        nn.Embedding(0, 3)
    with pytest.raises(TypeError, match="Embedding: embedding_dim must be an int, got float 3.0"):
        nn.Embedding(4, 3.0)
    with pytest.raises(ValueError, match="Embedding: padding_idx must be a row of the weight, in \\[-4, 4\\).*got -5"):
        nn.Embedding(4, 3, padding_idx=-5)
    with pytest.raises(ValueError, match="Embedding: max_norm must be > 0.0, got -1.0"):
        nn.Embedding(4, 3, max_norm=-1.0)
    with pytest.raises(NotImplementedError, match="Embedding: scale_grad_by_freq=True is not implemented"):
        nn.Embedding(4, 3, scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="Embedding: sparse=True \\(sparse gradients\\) is not implemented"):
        nn.Embedding(4, 3, sparse=True)
    with pytest.raises(TypeError, match="Embedding: dtype must be a floating point type, got int64"):
        nn.Embedding(4, 3, dtype=tg.int64)
    with pytest.raises(ValueError, match="Embedding.from_pretrained: embeddings must be 2-d .* got shape \\(3,\\)"):
        nn.Embedding.from_pretrained(tg.zeros(3))
    with pytest.raises(TypeError, match="Embedding.from_pretrained: embeddings must be a Tensor, got list"):
        nn.Embedding.from_pretrained([[1.0]])


def test_the_module_takes_a_dtype():
    e = nn.Embedding(3, 2, dtype=tg.float64)
    assert e.weight.dtype == np.float64 and e(tg.tensor([1])).dtype == np.float64
