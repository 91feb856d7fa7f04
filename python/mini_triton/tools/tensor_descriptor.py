"""`triton.tools.tensor_descriptor.TensorDescriptor`: a tensor and the block shape a kernel moves through it,
passed to a kernel as one argument (`desc.load([i, j])`, `desc.store([i, j], x)`, `desc.shape`, ...).

mini_triton passes the base pointer, the shape and the strides (in elements) and specialises the kernel on the
dtype, the block shape and the padding; loads and stores are bounds-checked block accesses (Triton's are TMA
copies), so the values are Triton's on the CPU and the GPU alike."""

from dataclasses import dataclass
from typing import Any, List


def _element_strides(base):
    strides = base.stride() if callable(getattr(base, "stride", None)) else None
    if strides is None:  # NumPy: strides in bytes
        strides = [s // base.itemsize for s in base.strides]
    return [int(s) for s in strides]


@dataclass
class TensorDescriptor:
    base: Any
    shape: List[int]
    strides: List[int]
    block_shape: List[int]
    padding: str = "zero"

    def __post_init__(self):
        self.shape = [int(s) for s in self.shape]
        self.strides = [int(s) for s in self.strides]
        self.block_shape = [int(b) for b in self.block_shape]
        rank = len(self.shape)
        if not 1 <= rank <= 5:
            raise ValueError(f"TensorDescriptor: rank must be 1 to 5, got {rank}")
        if len(self.strides) != rank or len(self.block_shape) != rank:
            raise ValueError(f"TensorDescriptor: shape {self.shape}, strides {self.strides} and block_shape "
                             f"{self.block_shape} must have the same length")
        if self.strides[-1] != 1:
            raise ValueError(f"TensorDescriptor: the last dimension must be contiguous (stride 1), got strides "
                             f"{self.strides}")
        for b in self.block_shape:
            if b < 1 or b & (b - 1):
                raise ValueError(f"TensorDescriptor: block_shape {self.block_shape} must be powers of two")
        if self.padding not in ("zero", "nan"):
            raise ValueError(f"TensorDescriptor: padding must be 'zero' or 'nan', got {self.padding!r}")

    @staticmethod
    def from_tensor(tensor: Any, block_shape: List[int], padding: str = "zero") -> "TensorDescriptor":
        """A descriptor over the whole of `tensor` (a torch tensor or a NumPy array)."""
        return TensorDescriptor(tensor, list(tensor.shape), _element_strides(tensor), block_shape, padding)
