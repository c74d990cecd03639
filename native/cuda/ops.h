// Registration of the CUDA addons' op entry points, one file per op family (as native/ops.h for the cpu).
#pragma once
#include <napi.h>

namespace ftcn {

void register_layer_ops(Napi::Env env, Napi::Object exports);        // ops_layers.cc
void register_elementwise_ops(Napi::Env env, Napi::Object exports);  // ops_elementwise.cc
void register_loss_ops(Napi::Env env, Napi::Object exports);         // ops_losses.cc
void register_optim_ops(Napi::Env env, Napi::Object exports);        // ops_optim.cc
void register_attention_ops(Napi::Env env, Napi::Object exports);    // ops_attention.cc

}  // namespace ftcn
