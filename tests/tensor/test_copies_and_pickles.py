"""Copies and pickles of tensors, models, optimizers and state dicts (a tensor is
its device, dtype, values and requires_grad; the graph is not copied), and the
idioms of ported PyTorch scripts that needed them."""
import copy
import pickle

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.data import DataLoader, TensorDataset
from tinygrad_bn.models import SimpleNetBN


def _trained(device="cpu"):
    tg.manual_seed(0)
    model = SimpleNetBN().to(device)
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((8, 784)).astype(np.float32), device=device)
    y = tg.tensor(np.arange(8) % 10, device=device)
    tg.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    return model, opt, x, y


def _same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].device == sb[k].device and sa[k].dtype == sb[k].dtype, k
        np.testing.assert_array_equal(sa[k].cpu().numpy(), sb[k].cpu().numpy(), err_msg=k)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_model_and_its_optimizer_copy_whole_and_independent(how):
    model, opt, x, y = _trained()
    twin_model, twin_opt = (copy.deepcopy((model, opt)) if how == "deepcopy"
                            else pickle.loads(pickle.dumps((model, opt))))
    _same_state(model, twin_model)
    assert twin_opt.param_groups[0]["params"][0] is twin_model.layers[0].weight  # one memo: still tied
    assert type(twin_model.layers[0].weight) is type(model.layers[0].weight)
    assert twin_model.layers[0].weight.requires_grad
    assert (twin_model.layers[0].weight.grad is not None) == (how == "deepcopy")  # pickles hold no grads
    # independent: another step of the original leaves the copy as it was
    before = twin_model.layers[0].weight.detach().numpy().copy()
    for m, o in ((model, opt), (twin_model, twin_opt)):
        o.zero_grad()
        tg.nn.functional.cross_entropy(m(x), y).backward()
        o.step()
    _same_state(model, twin_model)  # the same step from the same state: the same result
    assert not np.array_equal(before, twin_model.layers[0].weight.detach().numpy())
    twin_model.layers[0].weight.data.mul_(0)
    assert np.abs(model.layers[0].weight.detach().numpy()).sum() > 0


def test_an_ema_copy_as_ported_scripts_keep_one():
    model, _, x, _ = _trained()
    ema = copy.deepcopy(model)
    with tg.no_grad():
        for pe, p in zip(ema.parameters(), model.parameters()):
            pe.mul_(0.9).add_(p.detach() * 0.1)
    ema.eval()
    assert ema(x).shape == (8, 10)


def test_tensors_copy_as_leaves_only():
    t = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    for back in (copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert back.dtype == np.float64 and back.requires_grad and back.is_leaf and back.tolist() == [1.0, 2.0]
    assert copy.copy(tg.ones(2)).tolist() == [1.0, 1.0]
    made = t * 2
    for attempt in (lambda: copy.deepcopy(made), lambda: pickle.dumps(made)):
        with pytest.raises(RuntimeError, match="graph leaves.*detach"):
            attempt()
    assert pickle.loads(pickle.dumps(made.detach())).tolist() == [2.0, 4.0]
    sd = pickle.loads(pickle.dumps(SimpleNetBN().state_dict()))
    assert sd["layers.1.num_batches_tracked"].dtype == np.int64
    assert sd["layers.1.num_batches_tracked"].shape == SimpleNetBN().state_dict()["layers.1.num_batches_tracked"].shape
    for zero_d in (tg.tensor(2.5), tg.tensor(3), tg.tensor(1.5, requires_grad=True)):
        for back in (copy.deepcopy(zero_d), pickle.loads(pickle.dumps(zero_d))):
            assert back.shape == () and back.item() == zero_d.item() and back.dtype == zero_d.dtype


def test_a_zero_d_tensor_formats_as_its_number():
    loss = tg.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{loss:>8.2f}" == "    0.12" and f"{loss}" == str(loss.item())
    assert f"{tg.tensor(7):d}" == "7"
    with pytest.raises(TypeError):
        f"{tg.ones(2):.3f}"  # as PyTorch: only 0-d tensors take a format spec


def test_tensor_dataset_items_and_slices_are_tensors():
    x, y = tg.randn(10, 3), tg.tensor(np.arange(10))
    ds = TensorDataset(x, y)
    xb, yb = ds[2:5]
    assert isinstance(xb, tg.Tensor) and xb.shape == (3, 3) and yb.tolist() == [2, 3, 4]
    xi, yi = ds[-1]
    assert xi.shape == (3,) and yi.shape == () and yi.item() == 9
    np.testing.assert_array_equal(xb.numpy(), x.numpy()[2:5])
    # the tutorial's loop: slices of the dataset straight into the model
    model = tg.nn.Linear(3, 2)
    assert model(ds[0:4][0]).shape == (4, 2)
    assert [b[0].shape for b in DataLoader(ds, batch_size=4)] == [(4, 3), (4, 3), (2, 3)]


def test_instance_norm_tracking_statistics_leaves_the_count_and_momentum_none_as_pytorch():
    m = tg.nn.InstanceNorm1d(3, track_running_stats=True)
    m(tg.randn(2, 3, 5))
    assert m.num_batches_tracked.item() == 0 and m.running_mean.abs().sum().item() > 0
    m = tg.nn.InstanceNorm1d(3, track_running_stats=True, momentum=None)
    m(tg.randn(2, 3, 5))
    assert m.running_mean.tolist() == [0.0] * 3 and m.running_var.tolist() == [1.0] * 3
    assert m.num_batches_tracked.item() == 0
