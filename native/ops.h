// Registration of the native entry points: the op table's (generated glue, cpu_ops.cc) and the logging aid.
#pragma once
#include <napi.h>

namespace ftn {

void register_table_ops(Napi::Env env, Napi::Object exports);  // cpu_ops.cc: every op of the table
void register_stderr_ops(Napi::Env env, Napi::Object exports);  // stderr.cc (not an op: a logging aid)

}  // namespace ftn

#define FTN_EXPORT(exports, env, fn) (exports).Set(#fn, Napi::Function::New((env), fn, #fn))
