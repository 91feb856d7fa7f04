// Empty: host_shim.h defines the stand-in __nv_bfloat16.
#pragma once
