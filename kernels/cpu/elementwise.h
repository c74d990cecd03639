// Elementwise ops of the CPU backend over flat float32 arrays of n elements. Forward ops overwrite,
// backward ops add into their gradient outputs (engine convention). Outputs may be the same array as an
// input (every element is read before it is written at the same index).
#pragma once
#include <cstdint>

namespace ft {

void relu_forward(const float* x, float* y, int64_t n);
// dx += dy where y > 0 (uses the forward output, so relu can run in place).
void relu_backward(const float* dy, const float* y, float* dx, int64_t n);
// GELU x·Φ(x), in float arithmetic with a fitted erfc (relative error below 2e-6 where it matters; elementwise.cc).
void gelu_forward(const float* x, float* y, int64_t n);
void gelu_backward(const float* dy, const float* x, float* dx, int64_t n);
void add_forward(const float* a, const float* b, float* y, int64_t n);
// dst += alpha·src (also the gradient reversal with alpha = −λ).
void axpy(const float* src, float* dst, float alpha, int64_t n);
void scale_inplace(float* x, float s, int64_t n);

}  // namespace ft
