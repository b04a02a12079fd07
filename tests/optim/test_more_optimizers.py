"""Adagrad, Adadelta, Adamax, NAdam, RAdam, Rprop and ASGD against their update rules
written out below in float64 NumPy (PyTorch's algorithms, torch/optim/*.py and the
docs' pseudocode), against torch.optim itself when it is installed, and the Optimizer
base's step hooks, closure and state-dict hooks."""
import math
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import optim
from tinygrad_bn.optim import optimizer as optimizer_module

NAMES = ["Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop", "ASGD"]

# PyTorch 2.13's defaults, written here so a wrong default in the package shows
DEFAULTS = {
    "Adagrad": {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10,
                "maximize": False},
    "Adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0, "maximize": False},
    "Adamax": {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "maximize": False},
    "NAdam": {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "momentum_decay": 4e-3,
              "decoupled_weight_decay": False, "maximize": False},
    "RAdam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "decoupled_weight_decay": False,
              "maximize": False},
    "Rprop": {"lr": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50), "maximize": False},
    "ASGD": {"lr": 1e-2, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6, "weight_decay": 0.0, "maximize": False},
}

# the state names PyTorch keeps per parameter (so state dicts read alike)
STATE_KEYS = {
    "Adagrad": {"step", "sum"}, "Adadelta": {"step", "square_avg", "acc_delta"},
    "Adamax": {"step", "exp_avg", "exp_inf"}, "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    "RAdam": {"step", "exp_avg", "exp_avg_sq"}, "Rprop": {"step", "prev", "step_size"},
    "ASGD": {"step", "eta", "mu", "ax"},
}


def reference_step(name, hp, st, p, grad):
    """One step of PyTorch's rule for ``name`` on float64 arrays: the new parameter.
    ``st`` is this parameter's state (a dict, filled here); ``hp`` the options given."""
    h = {**DEFAULTS[name], **hp}
    lr = h["lr"]
    g = -grad if h["maximize"] else grad.copy()
    t = st["t"] = st.get("t", 0) + 1
    if name == "Adagrad":
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        clr = lr / (1 + (t - 1) * h["lr_decay"])
        st["sum"] = st.get("sum", np.full_like(p, h["initial_accumulator_value"])) + g * g
        return p - clr * g / (np.sqrt(st["sum"]) + h["eps"])
    if name == "Adadelta":
        rho, eps = h["rho"], h["eps"]
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        v = st["v"] = rho * st.get("v", 0.0 * p) + (1 - rho) * g * g
        delta = np.sqrt(st.get("u", 0.0 * p) + eps) / np.sqrt(v + eps) * g
        st["u"] = rho * st.get("u", 0.0 * p) + (1 - rho) * delta * delta
        return p - lr * delta
    if name == "Adamax":
        b1, b2 = h["betas"]
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        m = st["m"] = b1 * st.get("m", 0.0 * p) + (1 - b1) * g
        u = st["u"] = np.maximum(b2 * st.get("u", 0.0 * p), np.abs(g) + h["eps"])
        return p - lr / (1 - b1 ** t) * m / u
    if name in ("NAdam", "RAdam"):
        b1, b2 = h["betas"]
        if h["weight_decay"] and h["decoupled_weight_decay"]:
            p = p * (1 - lr * h["weight_decay"])
        elif h["weight_decay"]:
            g = g + h["weight_decay"] * p
        m = st["m"] = b1 * st.get("m", 0.0 * p) + (1 - b1) * g
        v = st["v"] = b2 * st.get("v", 0.0 * p) + (1 - b2) * g * g
        if name == "NAdam":
            mu = b1 * (1 - 0.5 * 0.96 ** (t * h["momentum_decay"]))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * h["momentum_decay"]))
            prod = st["prod"] = st.get("prod", 1.0) * mu
            denom = np.sqrt(v / (1 - b2 ** t)) + h["eps"]
            return p - lr * (1 - mu) / (1 - prod) * g / denom - lr * mu_next / (1 - prod * mu_next) * m / denom
        m_hat = m / (1 - b1 ** t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        st.setdefault("rectified", []).append(rho_t > 5)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            return p - lr * m_hat * r * math.sqrt(1 - b2 ** t) / (np.sqrt(v) + h["eps"])
        return p - lr * m_hat
    if name == "Rprop":
        (etaminus, etaplus), (lo, hi) = h["etas"], h["step_sizes"]
        prev = st.get("prev", 0.0 * p)
        size = st.get("size", np.full_like(p, lr))
        s = np.sign(g * prev)
        size = np.clip(size * np.where(s > 0, etaplus, np.where(s < 0, etaminus, 1.0)), lo, hi)
        g = np.where(s < 0, 0.0, g)
        st["prev"], st["size"] = g, size
        st["flips"] = st.get("flips", 0) + int((s < 0).sum())
        return p - np.sign(g) * size
    if name == "ASGD":
        eta, mu = st.get("eta", lr), st.get("mu", 1.0)
        if h["weight_decay"]:
            g = g + h["weight_decay"] * p
        p = p * (1 - h["lambd"] * eta) - eta * g
        st["ax"] = p.copy() if mu == 1 else st["ax"] + mu * (p - st["ax"])
        st["eta"] = lr / (1 + h["lambd"] * lr * t) ** h["alpha"]
        st["mu"] = 1 / max(1, t - h["t0"])
        return p
    raise AssertionError(name)


# two parameters (a matrix and a vector), each on its own convex quadratic
_rng = np.random.default_rng(20240613)
X0 = [_rng.standard_normal((2, 3)), _rng.standard_normal(4)]
_M = [_rng.standard_normal((6, 6)), _rng.standard_normal((4, 4))]
A = [m @ m.T / len(m) + 0.3 * np.eye(len(m)) for m in _M]
B = [_rng.standard_normal(6), _rng.standard_normal(4)]


def quad_grad(k, x, maximize=False):
    """The gradient of 0.5 x'Ax - b'x (of its negative with maximize, which then climbs it)."""
    g = (A[k] @ x.ravel() - B[k]).reshape(x.shape)
    return -g if maximize else g


def run_ours(name, kw, steps=20, dtype=np.float64):
    ps = [tg.tensor(x.astype(dtype), requires_grad=True) for x in X0]
    opt = getattr(optim, name)(ps, **kw)
    out = []
    for _ in range(steps):
        for k, p in enumerate(ps):
            p.grad = tg.tensor(quad_grad(k, p.detach().numpy().astype(np.float64), kw.get("maximize", False))
                               .astype(dtype))
        opt.step()
        out.append([p.detach().numpy().copy() for p in ps])
    return out, opt, ps


def run_reference(name, kw, steps=20):
    xs, states, out = [x.copy() for x in X0], [{}, {}], []
    for _ in range(steps):
        xs = [reference_step(name, kw, st, x, quad_grad(k, x, kw.get("maximize", False)))
              for k, (x, st) in enumerate(zip(xs, states))]
        out.append([x.copy() for x in xs])
    return out, states


CASES = [
    ("Adagrad", {}), ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.3, "eps": 1e-6}),
    ("Adadelta", {}), ("Adadelta", {"lr": 0.5, "maximize": True}),
    ("Adadelta", {"rho": 0.5, "eps": 1e-4, "weight_decay": 0.1}),
    ("Adamax", {}), ("Adamax", {"lr": 0.05, "maximize": True}),
    ("Adamax", {"lr": 0.05, "betas": (0.5, 0.8), "weight_decay": 0.1, "eps": 1e-3}),
    ("NAdam", {}), ("NAdam", {"lr": 0.05, "maximize": True}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 0.1, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.8, 0.9)}),
    ("RAdam", {}), ("RAdam", {"lr": 0.05, "maximize": True}), ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.8, 0.9)}),
    ("Rprop", {}), ("Rprop", {"maximize": True}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("ASGD", {}), ("ASGD", {"lr": 0.05, "maximize": True, "t0": 3}),
    ("ASGD", {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
]
IDS = [f"{n}-{kw}" for n, kw in CASES]


@pytest.fixture
def torch64():
    """torch with float64 as its default dtype (so its scalar optimizer state is
    float64 too), restored afterwards; the test skips without torch."""
    torch = pytest.importorskip("torch")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(old)


@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_trajectory_follows_the_update_rule(name, kw):
    ours, opt, _ = run_ours(name, kw)
    ref, ref_states = run_reference(name, kw)
    for step, (got, want) in enumerate(zip(ours, ref)):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13, err_msg=f"{name} {kw}, step {step + 1}")
    # the quadratic moved: each step changed the parameters
    assert not np.allclose(ours[0][1], X0[1]) and not np.allclose(ours[-1][1], ours[-2][1])
    # the state is PyTorch's, by name and value
    for p, st in zip(opt.param_groups[0]["params"], ref_states):
        assert set(opt.state[p]) == STATE_KEYS[name]
        assert opt.state[p]["step"] == 20
    if name == "ASGD":
        for p, st in zip(opt.param_groups[0]["params"], ref_states):
            np.testing.assert_allclose(opt.state[p]["ax"], st["ax"], rtol=1e-10, atol=1e-13)
            assert opt.state[p]["eta"] == pytest.approx(st["eta"], rel=1e-12)
            assert opt.state[p]["mu"] == st["mu"]


def test_the_cases_reach_every_branch_of_the_rules():
    """RAdam runs unrectified steps first, then rectified ones; Rprop's gradient changes
    sign (its step shrinks); ASGD starts averaging after t0 steps."""
    _, st = run_reference("RAdam", {})
    assert st[0]["rectified"][0] is False and st[0]["rectified"][-1] is True
    _, st = run_reference("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)})
    assert st[0]["flips"] > 0
    _, st = run_reference("ASGD", {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 5, "weight_decay": 0.1})
    assert st[0]["mu"] < 1


@pytest.mark.parametrize("name, kw", CASES, ids=IDS)
def test_trajectory_matches_torch(name, kw, torch64):
    torch = torch64
    ours, _, _ = run_ours(name, kw)
    ps = [torch.tensor(x.copy(), requires_grad=True) for x in X0]
    topt = getattr(torch.optim, name)(ps, **kw)
    for step in range(20):
        for k, p in enumerate(ps):
            p.grad = torch.tensor(quad_grad(k, p.detach().numpy(), kw.get("maximize", False)))
        topt.step()
        for got, p in zip(ours[step], ps):
            np.testing.assert_allclose(got, p.detach().numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} {kw}, step {step + 1}")
    assert set(topt.state_dict()["state"][0]) == STATE_KEYS[name]


@pytest.mark.parametrize("name", NAMES)
def test_float32_parameters_keep_their_dtype_and_follow_the_rule(name):
    kw = {"lr": 0.05} if name != "Adadelta" else {}
    ours, opt, ps = run_ours(name, kw, steps=5, dtype=np.float32)
    ref, _ = run_reference(name, kw, steps=5)
    for p in ps:
        assert p.dtype == tg.float32
        for v in opt.state[p].values():
            assert not hasattr(v, "dtype") or v.dtype == np.float32
    for g, w in zip(ours[-1], ref[-1]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- a tiny MLP
def _mlp_data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 3))
    y = np.sin(x.sum(axis=1, keepdims=True))
    params = [rng.standard_normal((3, 5)) * 0.5, np.zeros(5), rng.standard_normal((5, 1)) * 0.5, np.zeros(1)]
    return x, y, params


def _mlp_loss(lib, x, y, w1, b1, w2, b2):
    h = lib.tanh(x @ w1 + b1)
    return ((h @ w2 + b2 - y) ** 2).mean()


MLP_LR = {"Adagrad": 0.1, "Adadelta": 1.0, "Adamax": 0.05, "NAdam": 0.02, "RAdam": 0.02, "Rprop": 0.01,
          "ASGD": 0.1}


@pytest.mark.parametrize("name", NAMES)
def test_tiny_mlp_each_step_is_the_rule_applied_to_its_gradients(name):
    """Real training: autograd's gradients of a 3-5-1 tanh MLP, and after every step each
    parameter equals the reference rule applied to (its value before, its gradient)."""
    x, y, init = _mlp_data()
    ps = [tg.tensor(a.copy(), requires_grad=True) for a in init]
    xt, yt = tg.tensor(x), tg.tensor(y)
    opt = getattr(optim, name)(ps, lr=MLP_LR[name])
    states = [{} for _ in ps]
    losses = []
    for step in range(20):
        opt.zero_grad()
        loss = _mlp_loss(tg, xt, yt, *ps)
        loss.backward()
        losses.append(loss.item())
        before = [(p.detach().numpy().copy(), p.grad.numpy().copy()) for p in ps]
        opt.step()
        for p, (v, g), st in zip(ps, before, states):
            want = reference_step(name, {"lr": MLP_LR[name]}, st, v, g)
            np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-10, atol=1e-13,
                                       err_msg=f"{name}, step {step + 1}")
    assert losses[-1] < losses[0], losses  # it trains


@pytest.mark.parametrize("name", NAMES)
def test_tiny_mlp_matches_torch(name, torch64):
    torch = torch64
    x, y, init = _mlp_data()
    ps = [tg.tensor(a.copy(), requires_grad=True) for a in init]
    tps = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(ps, lr=MLP_LR[name])
    topt = getattr(torch.optim, name)(tps, lr=MLP_LR[name])
    xt, yt, tx, ty = tg.tensor(x), tg.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(20):
        opt.zero_grad()
        _mlp_loss(tg, xt, yt, *ps).backward()
        opt.step()
        topt.zero_grad()
        _mlp_loss(torch, tx, ty, *tps).backward()
        topt.step()
    for p, q in zip(ps, tps):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------- state dicts
ROUND_TRIP = {"Adagrad": {"lr": 0.1, "lr_decay": 0.01}, "Adadelta": {"rho": 0.8},
              "Adamax": {"lr": 0.05}, "NAdam": {"lr": 0.05}, "RAdam": {"lr": 0.05},
              "Rprop": {"lr": 0.05}, "ASGD": {"lr": 0.05, "t0": 4}}


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_resumes_the_same_trajectory(name, tmp_path):
    """10 steps, save (through tg.save and tg.load), a new optimizer with other
    hyperparameters loads it, and the next 10 steps are the uninterrupted run's."""
    kw = ROUND_TRIP[name]
    full, _, _ = run_ours(name, kw, steps=20)
    _, opt, ps = run_ours(name, kw, steps=10)
    path = tmp_path / "opt.npz"
    tg.save(opt.state_dict(), str(path))
    sd = tg.load(str(path))
    assert set(sd["state"]) == {0, 1} and set(sd["state"][0]) == STATE_KEYS[name]
    assert sd["param_groups"][0]["params"] == [0, 1]
    qs = [tg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in ps]
    other = {"lr": 0.5} if name != "Adadelta" else {"lr": 0.5, "rho": 0.1}
    opt2 = getattr(optim, name)(qs, **other)
    opt2.load_state_dict(sd)
    for k, v in kw.items():
        assert opt2.param_groups[0][k] == v
    for step in range(10, 20):
        for k, q in enumerate(qs):
            q.grad = tg.tensor(quad_grad(k, q.detach().numpy()))
        opt2.step()
        for q, want in zip(qs, full[step]):
            np.testing.assert_array_equal(q.detach().numpy(), want)


def test_adagrad_state_exists_from_construction_as_in_pytorch():
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 0
    np.testing.assert_array_equal(sd["state"][0]["sum"], [0.25, 0.25])
    # a group added later gets its state at its first step, from its own initial value
    q = tg.tensor([3.0], requires_grad=True)
    opt.add_param_group({"params": [q], "initial_accumulator_value": 1.0, "lr": 0.5})
    assert opt.param_groups[1]["lr_decay"] == 0.0  # the defaults fill the rest
    q.grad = tg.tensor([2.0])
    opt.step()
    np.testing.assert_allclose(q.detach().numpy(), [3.0 - 0.5 * 2.0 / (math.sqrt(1.0 + 4.0) + 1e-10)])
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0])  # no gradient: not moved
    assert opt.state[p]["step"] == 0


def test_rprop_step_size_starts_at_the_lr_of_the_first_step():
    p = tg.tensor([1.0, -1.0], requires_grad=True)
    opt = optim.Rprop([p], lr=0.1)
    p.grad = tg.tensor([2.0, -3.0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -0.9])  # the sign only, times lr
    p.grad = tg.tensor([1.0, 3.0])  # same sign: step * 1.2; a sign change: step * 0.5 and no move
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9 - 0.12, -0.9])
    np.testing.assert_allclose(opt.state[p]["step_size"], [0.12, 0.05])
    np.testing.assert_array_equal(opt.state[p]["prev"], [1.0, 0.0])


# --------------------------------------------------------------------- errors
BAD = [
    ("Adagrad", {"lr": -1.0}, ["Adagrad", "lr", ">= 0", "-1.0"]),
    ("Adagrad", {"lr_decay": -0.1}, ["Adagrad", "lr_decay", ">= 0", "-0.1"]),
    ("Adagrad", {"initial_accumulator_value": -2.0}, ["Adagrad", "initial_accumulator_value", ">= 0", "-2.0"]),
    ("Adagrad", {"eps": -1e-3}, ["Adagrad", "eps", ">= 0", "-0.001"]),
    ("Adagrad", {"weight_decay": -0.5}, ["Adagrad", "weight_decay", ">= 0", "-0.5"]),
    ("Adadelta", {"rho": 1.5}, ["Adadelta", "rho", "<= 1", "1.5"]),
    ("Adadelta", {"rho": -0.1}, ["Adadelta", "rho", ">= 0", "-0.1"]),
    ("Adadelta", {"lr": "0.1"}, ["Adadelta", "lr", "number", "'0.1'"]),
    ("Adamax", {"betas": (1.0, 0.9)}, ["Adamax", "betas[0]", "[0, 1)", "1.0"]),
    ("Adamax", {"betas": (0.9, -0.1)}, ["Adamax", "betas[1]", ">= 0", "-0.1"]),
    ("Adamax", {"betas": 0.9}, ["Adamax", "betas", "pair", "0.9"]),
    ("NAdam", {"momentum_decay": -1.0}, ["NAdam", "momentum_decay", ">= 0", "-1.0"]),
    ("NAdam", {"betas": (0.9, 1.0)}, ["NAdam", "betas[1]", "[0, 1)", "1.0"]),
    ("RAdam", {"betas": (0.9, 1.5)}, ["RAdam", "betas[1]", "<= 1", "1.5"]),
    ("RAdam", {"lr": float("nan")}, ["RAdam", "lr", "finite", "nan"]),
    ("Rprop", {"etas": (1.5, 1.2)}, ["Rprop", "etas", "0 < etaminus < 1 < etaplus", "(1.5, 1.2)"]),
    ("Rprop", {"etas": (0.5, 0.9)}, ["Rprop", "etas", "0 < etaminus < 1 < etaplus", "(0.5, 0.9)"]),
    ("Rprop", {"step_sizes": (1.0, 0.5)}, ["Rprop", "step_sizes", "min <= max", "(1.0, 0.5)"]),
    ("Rprop", {"step_sizes": (-1.0, 0.5)}, ["Rprop", "step_sizes[0]", ">= 0", "-1.0"]),
    ("Rprop", {"lr": -0.1}, ["Rprop", "lr", ">= 0", "-0.1"]),
    ("ASGD", {"lambd": -1.0}, ["ASGD", "lambd", ">= 0", "-1.0"]),
    ("ASGD", {"alpha": -0.5}, ["ASGD", "alpha", ">= 0", "-0.5"]),
    ("ASGD", {"t0": "x"}, ["ASGD", "t0", "number", "'x'"]),
    ("ASGD", {"differentiable": True}, ["ASGD", "differentiable=True", "not supported"]),
    ("Adagrad", {"foreach": "yes"}, ["Adagrad", "foreach", "bool", "'yes'"]),
]


@pytest.mark.parametrize("name, kw, says", BAD, ids=[f"{n}-{kw}" for n, kw, _ in BAD])
def test_bad_hyperparameters_are_refused_with_the_optimizer_the_value_and_what_is_expected(name, kw, says):
    p = tg.zeros(3, requires_grad=True)
    with pytest.raises((ValueError, TypeError)) as info:
        getattr(optim, name)([p], **kw)
    for s in says:
        assert s in str(info.value), (s, str(info.value))


@pytest.mark.parametrize("name, key, bad", [("Adadelta", "rho", 2.0), ("Adamax", "betas", (0.9, 1.0)),
                                            ("Rprop", "etas", (2.0, 3.0)), ("NAdam", "momentum_decay", -1.0),
                                            ("Adagrad", "lr_decay", -1.0)])
def test_load_state_dict_refuses_bad_hyperparameters_and_changes_nothing(name, key, bad):
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = getattr(optim, name)([p], lr=0.1)
    p.grad = tg.tensor([0.5, -0.5])
    opt.step()
    sd = opt.state_dict()
    before = opt.state_dict()
    sd["param_groups"][0][key] = bad
    sd["param_groups"][0]["lr"] = 0.7
    with pytest.raises(ValueError, match=f"{name}.*{re.escape(key)}"):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for k in before["state"][0]:
        np.testing.assert_array_equal(after["state"][0][k], before["state"][0][k])


def test_signatures_take_pytorchs_positional_order():
    p = tg.zeros(2, requires_grad=True)
    assert optim.Adagrad([p], 0.1, 0.01, 0.02, 0.3, 1e-5).defaults == {
        "lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.02, "initial_accumulator_value": 0.3, "eps": 1e-5,
        "maximize": False}
    assert optim.Adadelta([p], 0.5, 0.8, 1e-4, 0.1).defaults["rho"] == 0.8
    assert optim.NAdam([p], 0.01, (0.8, 0.9), 1e-6, 0.1, 0.01, True).defaults["decoupled_weight_decay"] is True
    assert optim.RAdam([p], 0.01, (0.8, 0.9), 1e-6, 0.1, True).defaults["decoupled_weight_decay"] is True
    assert optim.Rprop([p], 0.1, (0.4, 1.3), (1e-4, 1.0)).defaults["step_sizes"] == (1e-4, 1.0)
    assert optim.ASGD([p], 0.1, 1e-3, 0.5, 100.0, 0.01).defaults["t0"] == 100.0
    # PyTorch's implementation switches are taken (the update is the same)
    optim.Adamax([p], foreach=True, capturable=False)
    optim.Adagrad([p], fused=True)


# ---------------------------------------------------------------------- hooks
def test_step_hooks_run_in_pytorchs_order_and_remove():
    calls = []
    p = tg.tensor([1.0], requires_grad=True)
    opt = optim.NAdam([p], lr=0.1)
    handles = [
        optimizer_module.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(("global pre", o))),
        optimizer_module.register_optimizer_step_post_hook(lambda o, a, k: calls.append(("global post", o))),
        opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", p.item()))),
        opt.register_step_post_hook(lambda o, a, k: calls.append(("post", p.item()))),
    ]
    try:
        p.grad = tg.tensor([1.0])
        opt.step()
    finally:
        for h in handles[:2]:
            h.remove()
    assert [c[0] for c in calls] == ["global pre", "pre", "post", "global post"]
    assert calls[0][1] is opt and calls[1][1] == 1.0 and calls[2][1] < 1.0  # post sees the moved parameter
    handles[2].remove()
    calls.clear()
    opt.step()
    assert [c[0] for c in calls] == ["post"]


def test_a_pre_hook_may_replace_the_closure_and_step_returns_the_closures_loss():
    p = tg.tensor([2.0], requires_grad=True)
    opt = optim.Adagrad([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tg.no_grad():  # the closure runs with grad enabled all the same, as in PyTorch
        loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(p.detach().numpy(), [2.0 - 0.5 * 4.0 / (4.0 + 1e-10)])
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: ((o, lambda: seen.append("swapped") or closure()), kwargs))
    opt.step(closure)
    assert seen == ["swapped"]
    opt.register_step_pre_hook(lambda o, a, k: "bad")
    with pytest.raises(RuntimeError, match="Adagrad.step.*pre-hook.*None or a tuple"):
        opt.step()
    with pytest.raises(TypeError, match="Adagrad.register_step_post_hook: hook must be callable, got int"):
        opt.register_step_post_hook(3)


def test_state_dict_hooks():
    p = tg.tensor([1.0], requires_grad=True)
    opt = optim.Rprop([p])
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("sd pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_state_dict_post_hook(lambda o, sd: log.append("first"), prepend=True)
    sd = opt.state_dict()
    assert sd["extra"] == 1 and log == ["sd pre", "first"]

    def renamed(o, sd):
        sd = dict(sd)
        sd["param_groups"] = [{**g, "lr": 0.25} for g in sd["param_groups"]]
        return sd
    opt.register_load_state_dict_pre_hook(renamed)
    opt.register_load_state_dict_post_hook(lambda o: log.append(("loaded", o.param_groups[0]["lr"])))
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.25 and log[-1] == ("loaded", 0.25)


def test_hooks_match_torch(torch64):
    """The same hooks on torch.optim see the same order and arguments."""
    torch = torch64

    def trace(lib_optim, param):
        calls = []
        opt = lib_optim.Adamax([param], lr=0.1)
        opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", len(a), sorted(k))))
        opt.register_step_post_hook(lambda o, a, k: calls.append(("post", len(a), sorted(k))))
        param.grad = param.detach() * 0 + 1
        opt.step()
        opt.step(lambda: None)
        return calls

    assert trace(optim, tg.tensor([1.0], requires_grad=True)) == trace(torch.optim,
                                                                      torch.tensor([1.0], requires_grad=True))


@pytest.mark.parametrize("kind", ["state_dict_pre", "state_dict_post", "load_state_dict_pre", "load_state_dict_post"])
def test_optimizer_state_dict_hooks_run_in_registration_order_unless_prepended(kind):
    """As PyTorch: hooks run in the order registered; prepend=True puts one first. Order
    matters where a hook changes what the next one sees (a renamed key, a replaced dict)."""
    p = tg.tensor([1.0], requires_grad=True)
    opt = tg.optim.SGD([p], lr=0.1)
    log = []
    register = getattr(opt, f"register_{kind}_hook")
    register(lambda *a: log.append("first"))
    register(lambda *a: log.append("second"))
    register(lambda *a: log.append("prepended"), prepend=True)
    register(lambda *a: log.append("third"), prepend=False)
    state = opt.state_dict()
    if kind.startswith("load"):
        log.clear()
        opt.load_state_dict(state)
    assert log == ["prepended", "first", "second", "third"]
