"""`triton.language.extra.cuda`: `libdevice` (the same module as `triton.language.extra.libdevice`)."""

from . import libdevice

__all__ = ["libdevice"]
