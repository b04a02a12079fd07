"""How the tape's table writes sizes and gradient norms: bytes as whole B below 1 KiB,
then KB, MB and GB (powers of 1024) with one decimal, GB the largest unit; norms as
"-" when absent, "0" for zero, three decimals for magnitudes in [0.01, 10^4), and
scientific form with two decimals outside it (the sign kept)."""
import math

import pytest

from tinygrad_bn.tape_export import _fmt_bytes, _fmt_num

KIB = 1024


@pytest.mark.parametrize("n, text", [
    (0, "0B"), (1, "1B"), (1023, "1023B"), (KIB, "1.0KB"), (1536, "1.5KB"), (KIB * KIB - 1, "1024.0KB"),
    (KIB ** 2, "1.0MB"), (int(2.5 * KIB ** 2), "2.5MB"), (KIB ** 3, "1.0GB"), (5 * KIB ** 3, "5.0GB"),
    (3 * KIB ** 4, "3072.0GB"),
])
def test_bytes(n, text):
    assert _fmt_bytes(n) == text


@pytest.mark.parametrize("v, text", [
    (None, "-"), (0, "0"), (0.0, "0"), (0.01, "0.010"), (0.009999, "1.00e-02"), (0.00999, "9.99e-03"),
    (1.0, "1.000"), (9999.9994, "9999.999"), (10000.0, "1.00e+04"), (1e-30, "1.00e-30"),
    (-0.5, "-0.500"), (-1e-5, "-1.00e-05"), (-2e4, "-2.00e+04"), (math.inf, "inf"),
])
def test_norms(v, text):
    assert _fmt_num(v) == text
