#include "args.h"

#include <cmath>
#include <sstream>

namespace ftn {
namespace {

constexpr double MAX_SAFE = 9007199254740991.0;  // 2^53 − 1

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    std::ostringstream s;
    s << "number " << v.As<Napi::Number>().DoubleValue();
    return s.str();
  }
  if (v.IsString()) return "string";
  if (v.IsBoolean()) return "boolean";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float64_array: return "Float64Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint8_array: return "Uint8Array";
      default: return "a TypedArray other than Float32Array";
    }
  }
  if (v.IsArray()) return "Array";
  if (v.IsFunction()) return "function";
  return "object";
}

bool overlaps(const F32& a, const F32& b) {
  if (!a || !b) return false;
  const char* a0 = reinterpret_cast<const char*>(a.data);
  const char* b0 = reinterpret_cast<const char*>(b.data);
  const char* a1 = a0 + a.len * (int64_t)sizeof(float);
  const char* b1 = b0 + b.len * (int64_t)sizeof(float);
  return a0 < b1 && b0 < a1;
}

}  // namespace

Args::Args(const Napi::CallbackInfo& info, const char* op, size_t count) : info_(info), env_(info.Env()), op_(op) {
  if (info.Length() != count) {
    std::ostringstream s;
    s << "expected " << count << " arguments, got " << info.Length();
    fail(s.str());
  }
}

Napi::Value Args::at(size_t i) const { return info_[i]; }

std::string Args::arg_label(size_t i, const char* name) const {
  std::ostringstream s;
  s << "argument " << (i + 1) << " '" << name << "'";
  return s.str();
}

void Args::fail(const std::string& message) const {
  throw Napi::Error::New(env_, std::string("fairtune_native.") + op_ + ": " + message);
}

int64_t Args::dim(size_t i, const char* name) {
  const Napi::Value v = at(i);
  if (!v.IsNumber()) fail(arg_label(i, name) + " must be a positive integer, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(std::isfinite(d) && d >= 1 && d <= MAX_SAFE && std::floor(d) == d)) {
    fail(arg_label(i, name) + " must be a positive integer, got " + describe(v));
  }
  return (int64_t)d;
}

int64_t Args::count(size_t i, const char* name) {
  const Napi::Value v = at(i);
  if (!v.IsNumber()) fail(arg_label(i, name) + " must be a non-negative integer, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(std::isfinite(d) && d >= 0 && d <= MAX_SAFE && std::floor(d) == d)) {
    fail(arg_label(i, name) + " must be a non-negative integer, got " + describe(v));
  }
  return (int64_t)d;
}

double Args::number(size_t i, const char* name) {
  const Napi::Value v = at(i);
  if (!v.IsNumber()) fail(arg_label(i, name) + " must be a finite number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) fail(arg_label(i, name) + " must be a finite number, got " + describe(v));
  return d;
}

double Args::number_in(size_t i, const char* name, double lo, double hi, bool hi_open) {
  const double d = number(i, name);
  if (d < lo || d > hi || (hi_open && d == hi)) {
    std::ostringstream s;
    s << arg_label(i, name) << " must be in [" << lo << ", " << hi << (hi_open ? ")" : "]") << ", got " << d;
    fail(s.str());
  }
  return d;
}

double Args::number_range(size_t i, const char* name, double lo, bool lo_open, double hi, bool hi_open) {
  const double d = number(i, name);
  if (d < lo || d > hi || (lo_open && d == lo) || (hi_open && d == hi)) {
    std::ostringstream s;
    s << arg_label(i, name) << " must be in " << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]")
      << ", got " << d;
    fail(s.str());
  }
  return d;
}

int64_t Args::integer(size_t i, const char* name, int64_t lo, int64_t hi) {
  const double d = number(i, name);
  if (std::floor(d) != d || d < (double)lo || d > (double)hi) {
    std::ostringstream s;
    s << arg_label(i, name) << " must be an integer in [" << lo << ", " << hi << "], got " << d;
    fail(s.str());
  }
  return (int64_t)d;
}

std::string Args::string(size_t i, const char* name) {
  const Napi::Value v = at(i);
  if (!v.IsString()) fail(arg_label(i, name) + " must be a string, got " + describe(v));
  return v.As<Napi::String>().Utf8Value();
}

int64_t checked_product(const Args& a, const char* name, std::initializer_list<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) a.fail(std::string("dims of '") + name + "' must not be negative");
    if (__builtin_mul_overflow(n, d, &n)) a.fail(std::string("dims of '") + name + "' overflow int64");
  }
  return n;
}

F32 Args::array(size_t i, const char* name, std::initializer_list<int64_t> dims) {
  const Napi::Value v = at(i);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    fail(arg_label(i, name) + " must be a Float32Array, got " + describe(v));
  }
  Napi::Float32Array arr = v.As<Napi::Float32Array>();
  const int64_t want = checked_product(*this, name, dims);
  const int64_t have = (int64_t)arr.ElementLength();
  if (have != want) {
    std::ostringstream s;
    s << arg_label(i, name) << " has " << have << " elements, its dims [";
    bool first = true;
    for (int64_t d : dims) {
      s << (first ? "" : ", ") << d;
      first = false;
    }
    s << "] need " << want;
    fail(s.str());
  }
  F32 out;
  out.data = arr.Data();
  out.len = have;
  out.name = name;
  if (out.data == nullptr && have > 0) fail(arg_label(i, name) + " has no storage (detached buffer?)");
  return out;
}

F32 Args::optional_array(size_t i, const char* name, std::initializer_list<int64_t> dims) {
  const Napi::Value v = at(i);
  if (v.IsNull() || v.IsUndefined()) return F32{};
  return array(i, name, dims);
}

void Args::disjoint(const F32& out, const F32& in) const {
  if (overlaps(out, in)) fail(std::string("output '") + out.name + "' must not share memory with '" + in.name + "'");
}

void Args::same_or_disjoint(const F32& out, const F32& in) const {
  if (!overlaps(out, in)) return;
  if (out.data == in.data && out.len == in.len) return;
  fail(std::string("output '") + out.name + "' partially overlaps '" + in.name + "' (only the identical array is allowed)");
}

void Args::group_ids(const F32& ids, int64_t G) const {
  for (int64_t i = 0; i < ids.len; ++i) {
    const float g = ids.data[i];
    if (!(g >= 0.0f && g < (float)G && std::floor(g) == g)) {
      std::ostringstream s;
      s << "group id " << g << " at index " << i << " of '" << ids.name << "' is not an integer in [0, " << G << ")";
      fail(s.str());
    }
  }
}

}  // namespace ftn
