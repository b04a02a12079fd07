"""Optimizer and scheduler state: a state dict is the state's copy in both
directions (stepping after ``state_dict()`` leaves the dict alone, writing into a
loaded dict leaves the optimizer alone), no state array shares memory with a
gradient, a scheduler built on groups that already hold ``initial_lr`` keeps it
(as PyTorch's), and a run resumed from a checkpoint into fresh objects ends at the
uninterrupted run's parameters, bit for bit, for every optimizer and every
scheduler the package exports."""
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import optim
from tinygrad_bn.optim import lr_scheduler as S
from tinygrad_bn.optim import swa_utils

# torch-style warnings about the order of step calls are not what these tests check
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

OPTIMIZERS = sorted(n for n in optim.__all__ if isinstance(getattr(optim, n), type)
                    and issubclass(getattr(optim, n), optim.Optimizer) and getattr(optim, n) is not optim.Optimizer)

# options that give every optimizer per-parameter arrays in its state (SGD needs momentum)
KW = {"SGD": {"lr": 0.05, "momentum": 0.9}, "Adam": {"lr": 0.05, "amsgrad": True},
      "AdamW": {"lr": 0.05, "weight_decay": 0.1}, "RMSprop": {"lr": 0.01, "momentum": 0.5, "centered": True},
      "Adagrad": {"lr": 0.1}, "Adadelta": {"lr": 1.0}, "Adamax": {"lr": 0.05}, "NAdam": {"lr": 0.05},
      "RAdam": {"lr": 0.05}, "Rprop": {"lr": 0.05}, "ASGD": {"lr": 0.05, "t0": 2}}

_rng = np.random.default_rng(27)
X0 = [_rng.standard_normal((2, 3)), _rng.standard_normal(4)]
_M = [_rng.standard_normal((6, 6)), _rng.standard_normal((4, 4))]
A = [m @ m.T / len(m) + 0.3 * np.eye(len(m)) for m in _M]
B = [_rng.standard_normal(6), _rng.standard_normal(4)]


def quad_grad(k, x):
    """The gradient of 0.5 x'Ax - b'x for parameter k."""
    return (A[k] @ x.ravel() - B[k]).reshape(x.shape)


def params(values=X0):
    return [tg.tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in values]


def make(name, ps, **override):
    return getattr(optim, name)(ps, **{**KW[name], **override})


def train(opt, ps, steps):
    for _ in range(steps):
        for k, p in enumerate(ps):
            p.grad = tg.tensor(quad_grad(k, p.detach().numpy()))
        opt.step()


def snapshot(tree):
    """A deep copy of a state dict with every array (or tensor) as a NumPy copy."""
    if isinstance(tree, dict):
        return {k: snapshot(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(snapshot(v) for v in tree)
    if isinstance(tree, tg.Tensor):
        return tree.detach().cpu().numpy().copy()
    if isinstance(tree, np.ndarray):
        return tree.copy()
    return tree


def assert_same(got, want, where="state dict"):
    got, want = snapshot(got), snapshot(want)
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for k in want:
            assert_same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want, err_msg=where)
    else:
        assert got == want, where


def state_arrays(sd):
    """The arrays (or tensors) of a state dict's per-parameter state."""
    return [v for s in sd["state"].values() for v in s.values()
            if isinstance(v, (np.ndarray, tg.Tensor)) and v.ndim > 0]


def as_tensors(sd):
    """The state dict with each per-parameter array as a tensor, as PyTorch's state dicts hold them."""
    return {**sd, "state": {i: {n: tg.tensor(v) if isinstance(v, np.ndarray) and v.ndim > 0 else v
                                for n, v in s.items()} for i, s in sd["state"].items()}}


def fill(value_like, x):
    """Write x into every element of an array or tensor, in place."""
    if isinstance(value_like, tg.Tensor):
        value_like.fill_(x)
    else:
        value_like[...] = x


def test_every_optimizer_is_covered():
    assert set(KW) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_stepping_after_state_dict_leaves_the_dict_alone_and_writing_into_it_leaves_the_optimizer(name):
    ps = params()
    opt = make(name, ps)
    train(opt, ps, 3)
    sd = opt.state_dict()
    assert state_arrays(sd), "no array state: the test would check nothing"
    before = snapshot(sd)
    train(opt, ps, 2)
    assert_same(sd, before)
    now = snapshot(opt.state_dict())
    assert any(not np.array_equal(a, b) for a, b in zip(state_arrays(now), state_arrays(before))), \
        "the steps changed no state: the test would check nothing"
    for a in state_arrays(sd):
        fill(a, 7.0)
    assert_same(opt.state_dict(), now)


@pytest.mark.parametrize("form", ["numpy", "tensor"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_load_state_dict_copies_the_values_it_is_given(name, form):
    """The loaded optimizer owns its state: stepping it leaves the caller's dict as it
    was, and writing into the caller's dict afterwards leaves the optimizer alone
    (with NumPy arrays, and with tensors as in PyTorch's state dicts)."""
    ps = params()
    opt = make(name, ps)
    train(opt, ps, 3)
    sd = opt.state_dict()
    if form == "tensor":
        sd = as_tensors(sd)
    given = snapshot(sd)
    saved_values = [p.detach().numpy().copy() for p in ps]

    stepped = make(name, params(saved_values), lr=0.5)
    stepped.load_state_dict(sd)
    assert_same(stepped.state_dict(), given)
    train(stepped, stepped.param_groups[0]["params"], 2)
    assert_same(sd, given)

    held = make(name, params(saved_values), lr=0.5)
    held.load_state_dict(sd)
    for a in state_arrays(sd):
        fill(a, 7.0)
    assert_same(held.state_dict(), given)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_never_shares_memory_with_a_gradient(name):
    """A training loop that zeroes gradients in place (zero_grad(set_to_none=False))
    and accumulates into them takes the same steps as one that drops them: nothing the
    optimizer keeps is the gradient's memory (SGD's first momentum buffer is a copy)."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))

    def run(set_to_none):
        ps = params()
        opt = make(name, ps)
        out = []
        for _ in range(4):
            opt.zero_grad(set_to_none=set_to_none)
            loss = ((ps[0] @ tg.tensor(X) - tg.tensor(Y)) ** 2).mean() + ((ps[1] - 0.5) ** 2).sum()
            loss.backward()
            opt.step()
            grads = [p.grad.detach().numpy().copy() for p in ps]
            for p in ps:  # a later in-place change of a gradient (a hook, clipping) must not reach the state
                p.grad.mul_(-3.0)
            for p, g in zip(ps, grads):
                p.grad.copy_(tg.tensor(g))
            out.append([p.detach().numpy().copy() for p in ps])
        for p in ps:
            for a in opt.state.get(p, {}).values():
                if hasattr(a, "shape") and a.ndim > 0:
                    assert not np.shares_memory(a, p.grad.detach().numpy())
        return out

    for a, b in zip(run(False), run(True)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_sgd_momentum_buffer_survives_an_in_place_change_of_the_gradient():
    p = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = tg.tensor([0.5, 1.0], dtype=tg.float64)
    opt.step()
    p.grad.zero_()
    assert opt.state[p]["momentum_buffer"].tolist() == [0.5, 1.0]
    p.grad.add_(tg.tensor([1.0, 1.0], dtype=tg.float64))
    opt.step()  # buf = 0.9 * [0.5, 1] + [1, 1]
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.45, 1.9], rtol=1e-15)
    np.testing.assert_allclose(p.detach().numpy(), [1.0 - 0.05 - 0.145, -2.0 - 0.1 - 0.19], rtol=1e-15)


# ------------------------------------------------------------------ schedulers
SCHEDULER_CLASSES = sorted([n for n in S.__all__ if n != "LRScheduler"] + ["SWALR"])
K, N = 4, 5  # steps before the checkpoint, steps after it
METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.85, 0.86, 0.87, 0.88]  # ReduceLROnPlateau's: falls, then stalls


def cycles(o):
    return "momentum" in o.defaults or "betas" in o.defaults


BUILD = {
    "LambdaLR": lambda o: S.LambdaLR(o, lambda e: 0.8 ** e),
    "MultiplicativeLR": lambda o: S.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.05),
    "StepLR": lambda o: S.StepLR(o, 2, 0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, [2, 6], 0.5),
    "ConstantLR": lambda o: S.ConstantLR(o, 0.5, 6),
    "LinearLR": lambda o: S.LinearLR(o, 0.2, 1.0, 7),
    "ExponentialLR": lambda o: S.ExponentialLR(o, 0.8),
    "PolynomialLR": lambda o: S.PolynomialLR(o, 8, 2.0),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, 6, 0.001),
    "CosineAnnealingWarmRestarts": lambda o: S.CosineAnnealingWarmRestarts(o, 2, 2, 0.001),
    "CyclicLR": lambda o: S.CyclicLR(o, 0.001, 0.05, 2, 3, cycle_momentum=cycles(o)),
    "OneCycleLR": lambda o: S.OneCycleLR(o, 0.05, total_steps=K + N + 1, cycle_momentum=cycles(o)),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, patience=1, factor=0.5),
    "SequentialLR": lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.2, 1.0, 3), S.ExponentialLR(o, 0.8)], [6]),
    "ChainedScheduler": lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, 6), S.ExponentialLR(o, 0.9)]),
    "SWALR": lambda o: swa_utils.SWALR(o, 0.003, anneal_epochs=7),
}


def test_every_scheduler_is_covered():
    assert set(BUILD) == set(SCHEDULER_CLASSES)


def train_scheduled(opt, sched, ps, epochs):
    lrs = []
    for e in epochs:
        train(opt, ps, 1)
        if isinstance(sched, S.ReduceLROnPlateau):
            sched.step(METRICS[e])
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return lrs


@pytest.mark.parametrize("sched_name", SCHEDULER_CLASSES)
@pytest.mark.parametrize("opt_name", OPTIMIZERS)
def test_a_run_resumed_from_a_checkpoint_ends_where_the_uninterrupted_run_does(opt_name, sched_name):
    """K steps, save the optimizer's and the scheduler's state dicts, N more steps (which
    must not change the saved dicts); then, twice from the same checkpoint (the first
    resume must not change it either), fresh
    parameters, optimizer (another lr) and scheduler load it and take the N steps:
    the same rates, bit-identical parameters and the same optimizer state."""
    ps = params()
    opt = make(opt_name, ps)
    sched = BUILD[sched_name](opt)
    train_scheduled(opt, sched, ps, range(K))
    at_checkpoint = [p.detach().numpy().copy() for p in ps]
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    want_lrs = train_scheduled(opt, sched, ps, range(K, K + N))
    want = [p.detach().numpy().copy() for p in ps]
    saved_opt = as_tensors(saved_opt)  # as PyTorch's checkpoints hold them; both resumes load these tensors
    assert len({tuple(r) for r in want_lrs}) > 1 or sched_name == "ReduceLROnPlateau", "the rate never moves"
    for _ in range(2):
        qs = params(at_checkpoint)
        opt2 = make(opt_name, qs, lr=0.7)
        sched2 = BUILD[sched_name](opt2)
        opt2.load_state_dict(saved_opt)
        sched2.load_state_dict(saved_sched)
        assert train_scheduled(opt2, sched2, qs, range(K, K + N)) == want_lrs
        for q, w in zip(qs, want):
            np.testing.assert_array_equal(q.detach().numpy(), w)
        assert_same(opt2.state_dict(), opt.state_dict())  # ASGD's average too, which no step reads


def _two_groups():
    return [{"params": [tg.zeros(2, requires_grad=True)], "lr": 0.1},
            {"params": [tg.zeros(3, requires_grad=True)], "lr": 0.05}]


# what each scheduler takes as its base rates when the groups' initial_lr are (0.1, 0.05): PyTorch's
# (CyclicLR starts from its base_lr, OneCycleLR from max_lr / div_factor and sets initial_lr to it)
BASE_LRS = {"CyclicLR": [0.001, 0.001], "OneCycleLR": [0.05 / 25, 0.05 / 25]}


def _check_bases(name, sched, opt):
    initial = BASE_LRS["OneCycleLR"] if name == "OneCycleLR" else [0.1, 0.05]
    assert [g["initial_lr"] for g in opt.param_groups] == initial
    inner = getattr(sched, "_schedulers", [sched])
    for s in inner:
        if hasattr(s, "base_lrs"):
            assert s.base_lrs == BASE_LRS.get(name, [0.1, 0.05]), type(s).__name__


@pytest.mark.parametrize("name", SCHEDULER_CLASSES)
def test_a_second_scheduler_starts_from_initial_lr_not_the_decayed_rate(name):
    """As PyTorch: the first scheduler sets each group's initial_lr; one built later on the
    same optimizer (after the first has moved lr) takes its base rates from initial_lr and
    leaves it as it is."""
    opt = optim.SGD(_two_groups(), lr=0.1, momentum=0.9)
    first = S.ConstantLR(opt, 0.25, 4)
    first.step()
    assert [g["lr"] for g in opt.param_groups] == [0.025, 0.0125]
    _check_bases(name, BUILD[name](opt), opt)


@pytest.mark.parametrize("name", SCHEDULER_CLASSES)
def test_a_scheduler_built_after_loading_a_checkpoint_starts_from_its_initial_lr(name):
    """A resumed run that loads the optimizer's checkpoint (lr decayed, initial_lr kept)
    before building its scheduler: the scheduler's base rates are the checkpoint's
    initial_lr, and the optimizer's next checkpoint still carries it."""
    opt = optim.SGD(_two_groups(), lr=0.1, momentum=0.9)
    sched = S.ExponentialLR(opt, 0.5)
    for _ in range(3):
        sched.step()
    saved = opt.state_dict()
    fresh = optim.SGD(_two_groups(), lr=0.3, momentum=0.9)
    fresh.load_state_dict(saved)
    assert [g["lr"] for g in fresh.param_groups] == [0.1 * 0.5 ** 3, 0.05 * 0.5 ** 3]
    _check_bases(name, BUILD[name](fresh), fresh)


# PyTorch 2.13's per-parameter state keys after one step, for each optimizer and option
# that changes them (so a state dict moves between the two, and no buffer is kept that
# the update does not use)
STATE_KEYS = [
    ("SGD", {}, []), ("SGD", {"momentum": 0.9}, ["momentum_buffer"]),
    ("Adam", {}, ["exp_avg", "exp_avg_sq", "step"]),
    ("Adam", {"amsgrad": True}, ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]),
    ("AdamW", {}, ["exp_avg", "exp_avg_sq", "step"]),
    ("AdamW", {"amsgrad": True}, ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]),
    ("RMSprop", {}, ["square_avg", "step"]), ("RMSprop", {"momentum": 0.9}, ["momentum_buffer", "square_avg", "step"]),
    ("RMSprop", {"centered": True}, ["grad_avg", "square_avg", "step"]),
    ("RMSprop", {"momentum": 0.9, "centered": True}, ["grad_avg", "momentum_buffer", "square_avg", "step"]),
    ("Adagrad", {}, ["step", "sum"]), ("Adamax", {}, ["exp_avg", "exp_inf", "step"]),
    ("NAdam", {}, ["exp_avg", "exp_avg_sq", "mu_product", "step"]), ("RAdam", {}, ["exp_avg", "exp_avg_sq", "step"]),
    ("Adadelta", {}, ["acc_delta", "square_avg", "step"]), ("ASGD", {}, ["ax", "eta", "mu", "step"]),
    ("Rprop", {}, ["prev", "step", "step_size"]),
]


@pytest.mark.parametrize("name, options, keys", STATE_KEYS, ids=[f"{n}-{o}" for n, o, _ in STATE_KEYS])
def test_each_optimizer_keeps_pytorchs_state_for_its_options(name, options, keys):
    p = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1, **options)
    p.grad = tg.ones(2)
    opt.step()
    assert sorted(opt.state[p]) == keys
    assert sorted(opt.state_dict()["state"].get(0, {})) == keys


def test_the_state_keys_are_pytorchs():
    torch = pytest.importorskip("torch")
    for name, options, keys in STATE_KEYS:
        p = torch.nn.Parameter(torch.ones(2))
        opt = getattr(torch.optim, name)([p], lr=0.1, **options)
        p.grad = torch.ones(2)
        opt.step()
        assert sorted(opt.state[p]) == keys, (name, options)


@pytest.mark.parametrize("name", SCHEDULER_CLASSES)
def test_every_scheduler_counts_its_steps_in_last_epoch_and_its_state_dict(name):
    """last_epoch, which a resume reads from the state dict, is 0 after construction and one
    more per step for every scheduler (SWALR's rates follow its own step count, so a wrong
    last_epoch there shows nowhere else)."""
    ps = params()
    opt = make("SGD", ps)
    sched = BUILD[name](opt)
    if not hasattr(sched, "last_epoch"):  # ChainedScheduler keeps none, as PyTorch's
        return
    assert sched.last_epoch == 0
    train_scheduled(opt, sched, ps, range(K))
    assert sched.last_epoch == K and sched.state_dict()["last_epoch"] == K


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_load_state_dict_refuses_a_state_array_of_any_other_shape_and_changes_nothing(name):
    """Smaller, larger, transposed, flattened or with a dim more: each is refused, naming the
    state and both shapes, and the optimizer keeps its own state."""
    ps = params()
    opt = make(name, ps)
    train(opt, ps, 2)
    before = snapshot(opt.state_dict())
    key, state = next((k, s) for k, s in opt.state_dict()["state"].items() if ps[k].shape == (2, 3))
    field = next(n for n, v in state.items() if isinstance(v, np.ndarray) and v.shape == (2, 3))
    for shape in ((2, 2), (1, 3), (2, 4), (3, 2), (6,), (1, 2, 3)):
        sd = opt.state_dict()
        sd["state"][key] = {**state, field: np.zeros(shape)}
        with pytest.raises(ValueError, match=rf"state '{field}' of parameter {key} has shape "
                                             rf"{re.escape(str(tg.Size(shape)))}, the parameter has"):
            opt.load_state_dict(sd)
        assert_same(opt.state_dict(), before)


def test_state_round_trips_with_hundreds_of_parameter_groups():
    """Counts past CPython's cache of small ints (256): the optimizer's and the
    scheduler's state dicts load back into a fresh pair of the same many groups."""
    def pair():
        params = [tg.tensor([float(i)], requires_grad=True) for i in range(300)]
        opt = optim.SGD([{"params": [p], "lr": 0.1 + i / 1000} for i, p in enumerate(params)], lr=0.1, momentum=0.9)
        return params, opt, S.StepLR(opt, step_size=1, gamma=0.5)

    params, opt, sched = pair()
    for p in params:
        p.grad = tg.ones(1)
    opt.step()
    sched.step()
    _, opt2, sched2 = pair()
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    assert sched2.base_lrs == sched.base_lrs and len(sched2.base_lrs) == 300
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("bad, error, message", [
    (2.5, TypeError, "last_epoch must be an int, got float 2.5"), (True, TypeError, "last_epoch must be an int"),
    (-2, ValueError, "last_epoch must be >= -1, got -2")])
def test_a_scheduler_state_with_a_last_epoch_that_is_not_an_epoch_is_refused_and_changes_nothing(bad, error, message):
    p = tg.tensor([1.0], requires_grad=True)
    sched = S.StepLR(optim.SGD([p], lr=0.1), step_size=2)
    state = sched.state_dict()
    state["last_epoch"] = bad
    with pytest.raises(error, match=f"StepLR.load_state_dict: {re.escape(message)}"):
        sched.load_state_dict(state)
    assert sched.last_epoch == 0 and sched.state_dict()["last_epoch"] == 0
