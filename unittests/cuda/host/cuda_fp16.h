// Empty: host_shim.h defines the stand-in __half.
#pragma once
