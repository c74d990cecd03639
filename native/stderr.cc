// stderrTo(path) / stderrRestore(fd): points this process's file descriptor 2 at a log file and back. For
// third-party native code that writes to stderr itself and offers no logging hook (Dawn, the WebGPU
// implementation, prints adapter warnings that way): its messages then go to a debug log, not the user's
// terminal. Process-wide, so callers keep the window short and always restore.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

#include "args.h"
#include "ops.h"

namespace ftn {
namespace {

Napi::Value stderrTo(const Napi::CallbackInfo& info) {
  Args a(info, "stderrTo", 1);
  const std::string path = a.string(0, "path");
  std::fflush(stderr);
  const int saved = ::dup(2);
  if (saved < 0) a.fail(std::string("cannot duplicate stderr: ") + std::strerror(errno));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int e = errno;
    ::close(saved);
    a.fail("cannot open '" + path + "' for appending: " + std::strerror(e));
  }
  const bool ok = ::dup2(fd, 2) >= 0;
  const int e = errno;
  ::close(fd);
  if (!ok) {
    ::close(saved);
    a.fail(std::string("cannot redirect stderr: ") + std::strerror(e));
  }
  return Napi::Number::New(a.env(), saved);
}

Napi::Value stderrRestore(const Napi::CallbackInfo& info) {
  Args a(info, "stderrRestore", 1);
  const int saved = (int)a.integer(0, "fd", 3, INT_MAX);
  std::fflush(stderr);
  if (::dup2(saved, 2) < 0) a.fail(std::string("cannot restore stderr: ") + std::strerror(errno));
  ::close(saved);
  return a.env().Undefined();
}

}  // namespace

void register_stderr_ops(Napi::Env env, Napi::Object exports) {
  FTN_EXPORT(exports, env, stderrTo);
  FTN_EXPORT(exports, env, stderrRestore);
}

}  // namespace ftn
