"""``Embedding``: a lookup table of vectors, as ``torch.nn.Embedding``."""
from ..arguments import float_tensor_arg, number_arg, tensor_arg
from ..creation import zeros
from ..dtypes import as_dtype, is_float
from ..grad_mode import no_grad
from ..tensor_base import write_in_place
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each index
    ``i`` of an integer input of any shape: output ``input.shape + (embedding_dim,)``.

    ``weight`` starts N(0, 1), with the row ``padding_idx`` (if given; a
    negative one counts from the end) zeroed; that row gets no gradient, so
    training leaves it as it is. ``max_norm``: rows looked up are rescaled in
    place to that ``norm_type``-norm at most, as in PyTorch.

    Differs from PyTorch: ``scale_grad_by_freq=True`` and ``sparse=True`` raise
    NotImplementedError; ``_weight`` and ``from_pretrained`` copy the tensor
    given rather than share its memory.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        who = "Embedding"
        number_arg(who, "num_embeddings", num_embeddings, 1, integer=True)
        number_arg(who, "embedding_dim", embedding_dim, 1, integer=True)
        if dtype is not None and not is_float(as_dtype(dtype, who)):
            raise TypeError(f"{who}: dtype must be a floating point type, got {as_dtype(dtype)}")
        F.check_embedding_options(who, max_norm, norm_type, scale_grad_by_freq, sparse)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = F.embedding_padding_idx(who, padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(zeros(num_embeddings, embedding_dim, dtype=dtype, device=device or "cpu"),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            float_tensor_arg(who, _weight, "_weight")
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"{who}: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"({num_embeddings}, {embedding_dim}) (num_embeddings, embedding_dim)")
            self.weight = Parameter(_weight.detach(), requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                write_in_place(self.weight, "setitem", self.padding_idx, 0.0)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is (a copy of) the 2-d ``embeddings``, trained
        only when ``freeze=False``. The padding row is left as given, as in PyTorch."""
        tensor_arg("Embedding.from_pretrained", embeddings, "embeddings")
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d (num_embeddings, "
                             f"embedding_dim), got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=embeddings, _freeze=freeze)
