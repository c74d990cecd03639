// Registration of the CUDA addons' op entry points: every op of the table (generated glue, cuda_ops.cc).
#pragma once
#include <napi.h>

namespace ftcn {

void register_table_ops(Napi::Env env, Napi::Object exports);  // cuda_ops.cc

}  // namespace ftcn
