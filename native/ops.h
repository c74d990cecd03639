// Registration of the native entry points, grouped by op family (one file each).
#pragma once
#include <napi.h>

namespace ftn {

void register_layer_ops(Napi::Env env, Napi::Object exports);       // ops_layers.cc
void register_elementwise_ops(Napi::Env env, Napi::Object exports);  // ops_elementwise.cc
void register_loss_ops(Napi::Env env, Napi::Object exports);         // ops_losses.cc
void register_optim_ops(Napi::Env env, Napi::Object exports);        // ops_optim.cc
void register_attention_ops(Napi::Env env, Napi::Object exports);    // ops_attention.cc
void register_stderr_ops(Napi::Env env, Napi::Object exports);       // stderr.cc (not an op: a logging aid)

}  // namespace ftn

#define FTN_EXPORT(exports, env, fn) (exports).Set(#fn, Napi::Function::New((env), fn, #fn))
