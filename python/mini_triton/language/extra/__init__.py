"""`triton.language.extra`: the libdevice math functions (`extra.libdevice`, `extra.cuda.libdevice`)."""

from . import cuda, libdevice

__all__ = ["cuda", "libdevice"]
