"""`triton.tools`: the host-side tensor descriptor (`tools.tensor_descriptor.TensorDescriptor`)."""

from . import tensor_descriptor

__all__ = ["tensor_descriptor"]
