// Argument checking for every native entry point (used by the generated glue, generated/op_glue.h).
// JavaScript can call the addon with anything, so each op validates the count and types of its arguments,
// that every Float32Array holds exactly the number of elements its claimed dims give, that dims are positive
// safe integers whose products fit in int64, and that outputs do not overlap inputs where the kernel would
// misbehave, all before any memory is touched.
// Every failure throws a JS Error "fairtune_native.<op>: <argument> ..." instead of crashing the process.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace ftn {

// A validated Float32Array argument.
struct F32 {
  float* data = nullptr;
  int64_t len = 0;
  const char* name = "";
  explicit operator bool() const { return data != nullptr; }
};

class Args {
 public:
  // Checks the argument count exactly.
  Args(const Napi::CallbackInfo& info, const char* op, size_t count);

  const Napi::Env& env() const { return env_; }

  // A positive integer dimension (1 ≤ v ≤ 2^53 − 1).
  int64_t dim(size_t i, const char* name);
  // A non-negative integer count (0 ≤ v ≤ 2^53 − 1), for dims that may be empty (T = 0 patches).
  int64_t count(size_t i, const char* name);
  // Any finite number.
  double number(size_t i, const char* name);
  // A finite number in [lo, hi] (hi_open: [lo, hi)).
  double number_in(size_t i, const char* name, double lo, double hi, bool hi_open = false);
  // A finite number between lo and hi, each bound open or closed (the op table's scalar ranges).
  double number_range(size_t i, const char* name, double lo, bool lo_open, double hi, bool hi_open);
  // An integer in [lo, hi].
  int64_t integer(size_t i, const char* name, int64_t lo, int64_t hi);
  std::string string(size_t i, const char* name);

  // A Float32Array whose length is the product of dims.
  F32 array(size_t i, const char* name, std::initializer_list<int64_t> dims);
  // Same, or null/undefined → an empty F32 (data == nullptr).
  F32 optional_array(size_t i, const char* name, std::initializer_list<int64_t> dims);

  // Throws unless out and in share no memory.
  void disjoint(const F32& out, const F32& in) const;
  // Throws unless out and in are the exact same range or share no memory (elementwise ops may run in place).
  void same_or_disjoint(const F32& out, const F32& in) const;
  // Every value of `ids` is an integer in [0, G): group ids index arrays, so this one value check protects
  // memory and stays native (labels, weights and targets are checked on the TypeScript side, op table).
  void group_ids(const F32& ids, int64_t G) const;

  [[noreturn]] void fail(const std::string& message) const;

 private:
  Napi::Value at(size_t i) const;
  std::string arg_label(size_t i, const char* name) const;
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* op_;
};

// Throws when a dim is negative or the product of dims overflows int64.
int64_t checked_product(const Args& a, const char* name, std::initializer_list<int64_t> dims);

}  // namespace ftn
