"""Random numbers: one seeded generator per device, all reset by ``manual_seed``,
and ``Generator`` for a stream of one's own."""
import numbers
import os

from .backends import get_backend, seed_all


def manual_seed(seed: int) -> None:
    """Seed the generators behind rand, randn, weight init and dropout on every device."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
    seed_all(int(seed))


def default_generator(device="cpu"):
    """The generator behind the random functions on ``device`` (NumPy's on the CPU)."""
    return get_backend(device).generator


# ---------------------------------------------------------------- generators of one's own

_DEFAULT_SEED = 67280421310721  # what PyTorch seeds a new Generator with


class Generator:
    """``torch.Generator``: a stream of random numbers of its own on one device,
    for ``rand``, ``randn``, ``randint``, ``randperm`` and ``multinomial``
    (``generator=g``); the device's default stream (``manual_seed``) is left as
    it is. ``Generator().manual_seed(2147483647)`` returns the generator, as in
    PyTorch. The numbers are NumPy's (CuPy's on a GPU) PCG64, not PyTorch's."""

    def __init__(self, device="cpu"):
        from .device import device_of
        self.device = device_of(get_backend(device).name)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
            raise ValueError(f"Generator.manual_seed: expected a non-negative int, got {seed!r}")
        self._seed = int(seed)
        xp = getattr(get_backend(self.device), "xp", None)  # the device's array module
        if xp is None:
            raise RuntimeError(f"Generator: device '{self.device}' has no array module to make a generator with")
        self._rng = xp.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = int.from_bytes(os.urandom(8), "little") >> 1
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def __repr__(self):
        return f"Generator(device='{self.device}', initial_seed={self._seed})"


def stream(who, generator, device):
    """The random generator to draw from for ``device``: ``generator``'s, checked
    to be a Generator on that device, or the device's default one."""
    be = get_backend(device)
    if generator is None:
        return be.generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be a tinygrad_bn.Generator, got {type(generator).__name__}")
    if get_backend(generator.device) is not be:
        raise RuntimeError(f"{who}: the generator is on '{generator.device}' and the result on '{be.name}'; "
                           f"expected one device: make the generator with Generator(device='{be.name}')")
    return generator._rng

