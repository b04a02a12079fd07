"""Random numbers: one seeded generator per device, all reset by ``manual_seed``."""
import numbers

from .backends import get_backend, seed_all


def manual_seed(seed: int) -> None:
    """Seed the generators behind rand, randn, weight init and dropout on every device."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
    seed_all(int(seed))


def default_generator(device="cpu"):
    """The generator behind the random functions on ``device`` (NumPy's on the CPU)."""
    return get_backend(device).generator
