// The CUDA runtime for the glue: the real one (cudart, linked statically) in the fairtune_cuda addon, the
// host emulation of kernels/cuda/cuda_emu.h in the fairtune_cuda_emu addon (FT_CUDA_EMU defined). The glue
// only uses the runtime subset both provide, so the same glue code is what the emulated tests exercise.
#pragma once
#if defined(FT_CUDA_EMU)
#include "../../kernels/cuda/cuda_emu.h"
#else
#include <cuda_runtime.h>
#endif
