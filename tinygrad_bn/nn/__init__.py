"""Neural network building blocks, named as in ``torch.nn``."""
from . import functional, init, parallel, utils
from .containers import ModuleDict, ModuleList
from .embedding import Embedding
from .layers import (GELU, Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax,
                     ReLU, Sequential, Sigmoid, Softmax, Tanh)
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, Parameter
from .normalization import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d,
                            InstanceNorm2d, LayerNorm)
from .sync_batchnorm import SyncBatchNorm

__all__ = [
    "Module", "Parameter", "Linear", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "GELU",
    "Softmax", "LogSoftmax", "Dropout", "Flatten", "Identity", "Sequential",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "functional", "init", "utils",
    "ModuleList", "ModuleDict", "SyncBatchNorm", "parallel", "Embedding",
]
