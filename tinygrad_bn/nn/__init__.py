"""Neural network building blocks, named as in ``torch.nn``."""
from . import functional, init, parallel, utils
from .activation import (CELU, ELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid,
                         Mish, PReLU, ReLU6, RReLU, SiLU, Softmin, Softplus, Softshrink, Softsign, Tanhshrink,
                         Threshold)
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList
from .embedding import Embedding
from .layers import (GELU, Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax,
                     ReLU, Sequential, Sigmoid, Softmax, Tanh)
from .layers_extra import AlphaDropout, Bilinear, CosineSimilarity, PairwiseDistance, Unflatten
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .losses import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, GaussianNLLLoss, HingeEmbeddingLoss,
                     HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MultiLabelMarginLoss,
                     MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss,
                     TripletMarginLoss, TripletMarginWithDistanceLoss)
from .module import Module
from .normalization import (BatchNorm1d, BatchNorm2d, BatchRenorm1d, BatchRenorm2d, GroupNorm, InstanceNorm1d,
                            InstanceNorm2d, LayerNorm, RMSNorm)
from .parameter import Buffer, Parameter
from .sync_batchnorm import SyncBatchNorm

__all__ = [
    "Module", "Parameter", "Linear", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU",
    "Softmax", "LogSoftmax", "Dropout", "Flatten", "Identity", "Sequential",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BatchNorm1d", "BatchNorm2d", "BatchRenorm1d", "BatchRenorm2d", "LayerNorm",
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "RMSNorm", "functional", "init", "utils",
    "ModuleList", "ModuleDict", "SyncBatchNorm", "parallel", "Embedding",
    # activations, losses, distances (activation.py, losses.py, layers_extra.py)
    "ELU", "SELU", "CELU", "SiLU", "Mish", "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid",
    "Hardswish", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink", "Threshold", "GLU", "Softmin",
    "PReLU", "RReLU", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
    "GaussianNLLLoss", "PoissonNLLLoss", "SoftMarginLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
    "CosineEmbeddingLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "TripletMarginLoss",
    "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss", "CosineSimilarity", "PairwiseDistance", "Unflatten", "Bilinear", "AlphaDropout",
    "Buffer", "ParameterList", "ParameterDict",
]
