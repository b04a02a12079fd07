"""The hook classes behind ``nn.utils.spectral_norm`` and ``nn.utils.weight_norm`` take
PyTorch's defaults when built directly (``SpectralNorm(name='weight',
n_power_iterations=1, dim=0, eps=1e-12)`` in torch.nn.utils.spectral_norm), and a
``spectral_norm`` applied without arguments is the hook those defaults describe."""
import numpy as np

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn.norm_hooks import SpectralNorm

PYTORCH_SPECTRAL_NORM_DEFAULTS = {"name": "weight", "n_power_iterations": 1, "dim": 0, "eps": 1e-12}


def _attributes(hook):
    return {k: getattr(hook, k) for k in PYTORCH_SPECTRAL_NORM_DEFAULTS}


def test_spectral_norm_hook_built_with_no_arguments_has_pytorchs_defaults():
    assert _attributes(SpectralNorm()) == PYTORCH_SPECTRAL_NORM_DEFAULTS


def test_spectral_norm_applied_without_arguments_is_the_default_hook():
    lin = nn.Linear(3, 2)
    nn.utils.spectral_norm(lin)
    (hook,) = [h for h in lin._forward_pre_hooks.values() if isinstance(h, SpectralNorm)]
    assert _attributes(hook) == _attributes(SpectralNorm())


def test_the_default_eps_keeps_a_zero_weight_finite_in_the_power_iteration():
    """eps bounds the norm each power-iteration vector is divided by: a zero weight gives
    zero vectors, not NaN (0 / max(0, eps))."""
    lin = nn.Linear(3, 2)
    hook = SpectralNorm()
    nn.utils.spectral_norm(lin)
    with tg.no_grad():
        lin.weight_orig.zero_()
    with np.errstate(invalid="ignore"):  # (the weight itself is 0 / sigma = 0 / 0)
        hook.compute_weight(lin, do_power_iteration=True)
    np.testing.assert_array_equal(lin.weight_u.numpy(), np.zeros(2))
    np.testing.assert_array_equal(lin.weight_v.numpy(), np.zeros(3))



def test_a_weight_norm_hook_built_with_dim_none_norms_the_whole_tensor():
    """torch.nn.utils.weight_norm.WeightNorm('weight', None).dim is -1 (the whole tensor
    in _weight_norm), and a given dim is kept; the hook then computes g * v / ||v||."""
    from tinygrad_bn.nn.norm_hooks import WeightNorm
    assert WeightNorm("weight", None).dim == -1 and WeightNorm("weight", 1).dim == 1
    layer = nn.Linear(3, 2)
    v = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    layer.weight_v, layer.weight_g = nn.Parameter(tg.tensor(v)), nn.Parameter(tg.tensor(2.0))
    w = WeightNorm("weight", None).compute_weight(layer).detach().numpy()
    np.testing.assert_allclose(w, 2.0 * v / np.linalg.norm(v), rtol=1e-6)
