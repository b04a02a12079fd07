"""``ProbsLogits``: the base of the distributions given ``probs`` or ``logits``
(Bernoulli, Geometric, Binomial, Categorical), holding the one given and
computing the other on first use, as PyTorch's lazy properties."""
from .distribution import Distribution
from .utils import broadcast_all, logits_to_probs, one_parameter, probs_to_logits


class ProbsLogits(Distribution):
    """Holds ``_probs`` or ``_logits`` (the other None until first asked for; then
    both are kept, and ``expand`` expands both). ``_binary``: log-odds (sigmoid)
    rather than log-probabilities over the last dim (softmax)."""

    _binary = True
    _expand_attrs = ("_probs", "_logits")

    def _keep(self, name, param):
        """Hold ``param`` as the probs or the logits (``name``)."""
        self._probs = param if name == "probs" else None
        self._logits = param if name == "logits" else None

    def _init_elementwise(self, probs, logits, validate_args, fixes):
        """Hold whichever of probs and logits is given (exactly one: a number or floating
        point tensor) as a float tensor whose shape is the batch shape, checked against
        ``arg_constraints`` when validating (``fixes``: {name: how to fix it})."""
        who = type(self).__name__
        name, given = one_parameter(who, probs, logits)
        (param,) = broadcast_all(who, **{name: given})
        self._keep(name, param)
        Distribution.__init__(self, param.shape, validate_args=validate_args)
        if self._validate_args:
            self._check_parameters(fixes, **{name: param})

    @property
    def probs(self):
        if self._probs is None:
            self._probs = logits_to_probs(self._logits, is_binary=self._binary)
        return self._probs

    @property
    def logits(self):
        if self._logits is None:
            self._logits = probs_to_logits(self._probs, is_binary=self._binary)
        return self._logits

    @property
    def _param(self):
        """The probs when held (given or computed), else the logits."""
        return self._probs if self._probs is not None else self._logits

    @property
    def param_shape(self):
        return self._param.shape

    def _params(self):
        return [("probs", self._probs)] if self._probs is not None else [("logits", self._logits)]

    def _param_device(self):
        return self._param.device
