"""Library kernels written in mini_triton's (Triton's) kernel language; the torch-facing ops are in
mini_triton.ops."""
