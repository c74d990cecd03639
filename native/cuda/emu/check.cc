// The kernels of kernels/cuda/check.cu compiled by the host compiler through the CUDA emulation header
// (node-gyp only compiles known C++ extensions, so each .cu enters the emulated addon through one of these).
#include "../../../kernels/cuda/check.cu"
