"""`triton.language.extra.cuda.libdevice`: the same functions as `mini_triton.language.extra.libdevice`."""

from ..libdevice import *  # noqa: F401,F403
from ..libdevice import CONVERSIONS, NAMES, __getattr__  # noqa: F401
