"""``Chi2(df)``: the chi-squared distribution, Gamma(df / 2, 1 / 2), as ``torch.distributions.Chi2``."""
from typing import ClassVar

from . import constraints
from .gamma import Gamma
from .utils import broadcast_all


class Chi2(Gamma):
    """The chi-squared distribution with ``df`` degrees of freedom (a positive
    number or floating point tensor): exactly Gamma(0.5 * df, 0.5), so the
    KL divergences registered for Gamma apply. No ``rsample``, as Gamma here.
    """

    arg_constraints: ClassVar[dict] = {"df": constraints.positive}
    _expand_attrs = ("concentration", "rate")  # df is derived from them

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all("Chi2", df=df)
        self._init_gamma("Chi2", 0.5 * df, 0.5, validate_args)
        if self._validate_args:
            self._check_parameters({"df": "pass positive degrees of freedom"}, df=df)

    @property
    def df(self):
        return self.concentration * 2
