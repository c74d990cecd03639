// GENERATED from the op table (src/engine/ops/op-table.ts) by src/engine/ops/gen-native-glue.ts: do not edit.
// Regenerate with `npm run gen:ops`; test/engine/op-glue.test.ts fails when this file is out of date.
//
// Per op: a parameter struct, the run() each addon defines with its kernels, and the N-API entry point,
// which reads the arguments in the order of src/engine/ops/native-layout.ts and checks only what protects
// memory: argument count and types, dims, each array against its dims, outputs overlapping inputs, the
// constraints the table marks protectsMemory, and group ids that index arrays. The TypeScript side has
// already run every check of the table; these hold for a direct call of the addon. Dev reads a tensor
// argument (a Float32Array on the cpu addon, a device view on the cuda addons) and finishes a call (the
// cuda addons turn a failed launch into an error there).
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../args.h"

namespace ftn {
namespace ops {

// linear(x[N,K], w[M,K], b[M] | null, y[N,M], relu, p, seed, step, site, residual[N,M] | null, N, K, M)
struct Linear {
  F32 x;
  F32 w;
  F32 b;
  F32 y;
  int64_t relu;
  double p;
  int64_t seed;
  int64_t step;
  int64_t site;
  F32 residual;
  int64_t N;
  int64_t K;
  int64_t M;
};
void run(Args& a, const Linear& p);

// linearBackward(dy[N,M], x[N,K], w[M,K], dx[N,K] | null, dw[M,K] | null, db[M] | null, overwriteDx, reluOf[N,K] | null, overwriteDw, reluScale, N, M, K)
struct LinearBackward {
  F32 dy;
  F32 x;
  F32 w;
  F32 dx;
  F32 dw;
  F32 db;
  int64_t overwriteDx;
  F32 reluOf;
  int64_t overwriteDw;
  double reluScale;
  int64_t N;
  int64_t M;
  int64_t K;
};
void run(Args& a, const LinearBackward& p);

// linearFanout(x[N,K], w[G,M,K], b[G,M] | null, y[G,N,M], N, K, G, M)
struct LinearFanout {
  F32 x;
  F32 w;
  F32 b;
  F32 y;
  int64_t N;
  int64_t K;
  int64_t G;
  int64_t M;
};
void run(Args& a, const LinearFanout& p);

// linearFanoutBackward(dy[G,N,M], x[N,K], w[G,M,K], dx[N,K] | null, dw[G,M,K] | null, db[G,M] | null, overwriteDx, overwriteDw, G, N, M, K)
struct LinearFanoutBackward {
  F32 dy;
  F32 x;
  F32 w;
  F32 dx;
  F32 dw;
  F32 db;
  int64_t overwriteDx;
  int64_t overwriteDw;
  int64_t G;
  int64_t N;
  int64_t M;
  int64_t K;
};
void run(Args& a, const LinearFanoutBackward& p);

// startToken(e[B,T,D], token[D], h[B,T+1,D], B, T, D)
struct StartToken {
  F32 e;
  F32 token;
  F32 h;
  int64_t B;
  int64_t T;
  int64_t D;
};
void run(Args& a, const StartToken& p);

// startTokenBackward(dh[B,T+1,D], de[B,T,D] | null, dtoken[D] | null, B, T, D)
struct StartTokenBackward {
  F32 dh;
  F32 de;
  F32 dtoken;
  int64_t B;
  int64_t T;
  int64_t D;
};
void run(Args& a, const StartTokenBackward& p);

// rmsNorm(x[N,D], scale[D], eps, y[N,D], rstd[N], N, D)
struct RmsNorm {
  F32 x;
  F32 scale;
  double eps;
  F32 y;
  F32 rstd;
  int64_t N;
  int64_t D;
};
void run(Args& a, const RmsNorm& p);

// rmsNormBackward(dy[N,D], x[N,D], scale[D], rstd[N], dx[N,D], dscale[D] | null, N, D)
struct RmsNormBackward {
  F32 dy;
  F32 x;
  F32 scale;
  F32 rstd;
  F32 dx;
  F32 dscale;
  int64_t N;
  int64_t D;
};
void run(Args& a, const RmsNormBackward& p);

// layerNorm(x[N,C], gamma[C], beta[C], eps, y[N,C], mean[N], rstd[N], N, C)
struct LayerNorm {
  F32 x;
  F32 gamma;
  F32 beta;
  double eps;
  F32 y;
  F32 mean;
  F32 rstd;
  int64_t N;
  int64_t C;
};
void run(Args& a, const LayerNorm& p);

// layerNormBackward(dy[N,C], x[N,C], gamma[C], mean[N], rstd[N], dx[N,C], dgamma[C] | null, dbeta[C] | null, N, C)
struct LayerNormBackward {
  F32 dy;
  F32 x;
  F32 gamma;
  F32 mean;
  F32 rstd;
  F32 dx;
  F32 dgamma;
  F32 dbeta;
  int64_t N;
  int64_t C;
};
void run(Args& a, const LayerNormBackward& p);

// relu(x[n], y[n], n)
struct Relu {
  F32 x;
  F32 y;
  int64_t n;
};
void run(Args& a, const Relu& p);

// reluBackward(dy[n], y[n], dx[n], n)
struct ReluBackward {
  F32 dy;
  F32 y;
  F32 dx;
  int64_t n;
};
void run(Args& a, const ReluBackward& p);

// gelu(x[n], y[n], n)
struct Gelu {
  F32 x;
  F32 y;
  int64_t n;
};
void run(Args& a, const Gelu& p);

// geluBackward(dy[n], x[n], dx[n], n)
struct GeluBackward {
  F32 dy;
  F32 x;
  F32 dx;
  int64_t n;
};
void run(Args& a, const GeluBackward& p);

// dropout(x[n], y[n], p, seed, step, site, n)
struct Dropout {
  F32 x;
  F32 y;
  double p;
  int64_t seed;
  int64_t step;
  int64_t site;
  int64_t n;
};
void run(Args& a, const Dropout& p);

// dropoutBackward(dy[n], dx[n], p, seed, step, site, n)
struct DropoutBackward {
  F32 dy;
  F32 dx;
  double p;
  int64_t seed;
  int64_t step;
  int64_t site;
  int64_t n;
};
void run(Args& a, const DropoutBackward& p);

// ropeAttention(q[B,S,D], k[B,S,D], v[B,S,D], out[B,S,D], lse[B,H,S], p, seed, step, site, reserve[B,H,S,S] | null, B, S, D, H)
struct RopeAttention {
  F32 q;
  F32 k;
  F32 v;
  F32 out;
  F32 lse;
  double p;
  int64_t seed;
  int64_t step;
  int64_t site;
  F32 reserve;
  int64_t B;
  int64_t S;
  int64_t D;
  int64_t H;
};
void run(Args& a, const RopeAttention& p);

// ropeAttentionBackward(dout[B,S,D], q[B,S,D], k[B,S,D], v[B,S,D], out[B,S,D], lse[B,H,S], dq[B,S,D], dk[B,S,D], dv[B,S,D], p, seed, step, site, overwrite, reserve[B,H,S,S] | null, B, S, D, H)
struct RopeAttentionBackward {
  F32 dout;
  F32 q;
  F32 k;
  F32 v;
  F32 out;
  F32 lse;
  F32 dq;
  F32 dk;
  F32 dv;
  double p;
  int64_t seed;
  int64_t step;
  int64_t site;
  int64_t overwrite;
  F32 reserve;
  int64_t B;
  int64_t S;
  int64_t D;
  int64_t H;
};
void run(Args& a, const RopeAttentionBackward& p);

// add(a[n], b[n], y[n], p, seed, step, site, n)
struct Add {
  F32 a;
  F32 b;
  F32 y;
  double p;
  int64_t seed;
  int64_t step;
  int64_t site;
  int64_t n;
};
void run(Args& a, const Add& p);

// accumulate(src[n], dst[n], alpha, n)
struct Accumulate {
  F32 src;
  F32 dst;
  double alpha;
  int64_t n;
};
void run(Args& a, const Accumulate& p);

// scale(x[n], s, n)
struct Scale {
  F32 x;
  double s;
  int64_t n;
};
void run(Args& a, const Scale& p);

// meanPool(h[B,S,D], z[B,D], B, S, D)
struct MeanPool {
  F32 h;
  F32 z;
  int64_t B;
  int64_t S;
  int64_t D;
};
void run(Args& a, const MeanPool& p);

// meanPoolBackward(dz[B,D], dh[B,S,D], B, D, S)
struct MeanPoolBackward {
  F32 dz;
  F32 dh;
  int64_t B;
  int64_t D;
  int64_t S;
};
void run(Args& a, const MeanPoolBackward& p);

// gradReverse(dy[n], dx[n], lambda, n)
struct GradReverse {
  F32 dy;
  F32 dx;
  double lambda;
  int64_t n;
};
void run(Args& a, const GradReverse& p);

// hrLoss(out[B,2], hr[B], w[B], group[B], lambda, eps, pred[B], sampleLoss[B], loss[1], groupLossSum[G], groupCount[G], B, G)
struct HrLoss {
  F32 out;
  F32 hr;
  F32 w;
  F32 group;
  double lambda;
  double eps;
  F32 pred;
  F32 sampleLoss;
  F32 loss;
  F32 groupLossSum;
  F32 groupCount;
  int64_t B;
  int64_t G;
};
void run(Args& a, const HrLoss& p);

// hrLossBackward(out[B,2], hr[B], w[B], lambda, eps, dout[B,2], scale, B)
struct HrLossBackward {
  F32 out;
  F32 hr;
  F32 w;
  double lambda;
  double eps;
  F32 dout;
  double scale;
  int64_t B;
};
void run(Args& a, const HrLossBackward& p);

// nextPatchNll(params[B,S,2*P], x[B,T*P], eps, loss[1], B, S, P, T)
struct NextPatchNll {
  F32 params;
  F32 x;
  double eps;
  F32 loss;
  int64_t B;
  int64_t S;
  int64_t P;
  int64_t T;
};
void run(Args& a, const NextPatchNll& p);

// nextPatchNllBackward(params[B,S,2*P], x[B,T*P], eps, dparams[B,S,2*P], scale, B, S, P, T)
struct NextPatchNllBackward {
  F32 params;
  F32 x;
  double eps;
  F32 dparams;
  double scale;
  int64_t B;
  int64_t S;
  int64_t P;
  int64_t T;
};
void run(Args& a, const NextPatchNllBackward& p);

// bceWithLogits(logits[N,C], targets[N,C], loss[1], N, C)
struct BceWithLogits {
  F32 logits;
  F32 targets;
  F32 loss;
  int64_t N;
  int64_t C;
};
void run(Args& a, const BceWithLogits& p);

// bceWithLogitsBackward(logits[N,C], targets[N,C], dlogits[N,C], scale, N, C)
struct BceWithLogitsBackward {
  F32 logits;
  F32 targets;
  F32 dlogits;
  double scale;
  int64_t N;
  int64_t C;
};
void run(Args& a, const BceWithLogitsBackward& p);

// softmaxCrossEntropy(logits[N,C], targets[N,C], loss[1], N, C)
struct SoftmaxCrossEntropy {
  F32 logits;
  F32 targets;
  F32 loss;
  int64_t N;
  int64_t C;
};
void run(Args& a, const SoftmaxCrossEntropy& p);

// softmaxCrossEntropyBackward(logits[N,C], targets[N,C], dlogits[N,C], scale, N, C)
struct SoftmaxCrossEntropyBackward {
  F32 logits;
  F32 targets;
  F32 dlogits;
  double scale;
  int64_t N;
  int64_t C;
};
void run(Args& a, const SoftmaxCrossEntropyBackward& p);

// oneHot(ids[B], out[B,G], B, G)
struct OneHot {
  F32 ids;
  F32 out;
  int64_t B;
  int64_t G;
};
void run(Args& a, const OneHot& p);

// groupDroUpdate(q[G], groupLossSum[G], groupCount[G], eta, group[B], w[B], G, B)
struct GroupDroUpdate {
  F32 q;
  F32 groupLossSum;
  F32 groupCount;
  double eta;
  F32 group;
  F32 w;
  int64_t G;
  int64_t B;
};
void run(Args& a, const GroupDroUpdate& p);

// groupLossReweight(groupLossSum[G], groupCount[G], eta, group[B], gw[G], w[B], G, B)
struct GroupLossReweight {
  F32 groupLossSum;
  F32 groupCount;
  double eta;
  F32 group;
  F32 gw;
  F32 w;
  int64_t G;
  int64_t B;
};
void run(Args& a, const GroupLossReweight& p);

// adamw(param[n], grad[n], m[n], v[n], lr, beta1, beta2, eps, weightDecay, step, gradScale, maxNorm, norm[1] | null, n)
struct Adamw {
  F32 param;
  F32 grad;
  F32 m;
  F32 v;
  double lr;
  double beta1;
  double beta2;
  double eps;
  double weightDecay;
  int64_t step;
  double gradScale;
  double maxNorm;
  F32 norm;
  int64_t n;
};
void run(Args& a, const Adamw& p);

// sumSquares(tensors[]) → number
struct SumSquares {
  std::vector<F32> tensors;
};
double run(Args& a, const SumSquares& p);

// globalNorm(tensors[], norm[1])
struct GlobalNorm {
  std::vector<F32> tensors;
  F32 norm;
};
void run(Args& a, const GlobalNorm& p);

}  // namespace ops

namespace glue {
using namespace ops;

template <class Dev>
Napi::Value linear(const Napi::CallbackInfo& info_) {
  Args args_(info_, "linear", 13);
  const int64_t N = args_.dim(10, "N");
  const int64_t K = args_.dim(11, "K");
  const int64_t M = args_.dim(12, "M");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {N, K}, false);
  const F32 w = Dev::tensor(args_, info_, 1, "w", {M, K}, false);
  const F32 b = Dev::tensor(args_, info_, 2, "b", {M}, true);
  const F32 y = Dev::tensor(args_, info_, 3, "y", {N, M}, false);
  const int64_t relu = args_.integer(4, "relu", 0LL, 1LL);
  const double p = args_.number_range(5, "p", 0, false, 1, true);
  const int64_t seed = args_.integer(6, "seed", 0LL, 9007199254740991LL);
  const int64_t step = args_.integer(7, "step", 0LL, 4294967295LL);
  const int64_t site = args_.integer(8, "site", 0LL, 4294967295LL);
  const F32 residual = Dev::tensor(args_, info_, 9, "residual", {N, M}, true);
  args_.disjoint(y, x);
  args_.disjoint(y, w);
  args_.disjoint(y, b);
  args_.disjoint(y, residual);
  const Linear params_{x, w, b, y, relu, p, seed, step, site, residual, N, K, M};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value linearBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "linearBackward", 13);
  const int64_t N = args_.dim(10, "N");
  const int64_t M = args_.dim(11, "M");
  const int64_t K = args_.dim(12, "K");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {N, M}, false);
  const F32 x = Dev::tensor(args_, info_, 1, "x", {N, K}, false);
  const F32 w = Dev::tensor(args_, info_, 2, "w", {M, K}, false);
  const F32 dx = Dev::tensor(args_, info_, 3, "dx", {N, K}, true);
  const F32 dw = Dev::tensor(args_, info_, 4, "dw", {M, K}, true);
  const F32 db = Dev::tensor(args_, info_, 5, "db", {M}, true);
  const int64_t overwriteDx = args_.integer(6, "overwriteDx", 0LL, 1LL);
  const F32 reluOf = Dev::tensor(args_, info_, 7, "reluOf", {N, K}, true);
  const int64_t overwriteDw = args_.integer(8, "overwriteDw", 0LL, 1LL);
  const double reluScale = args_.number_range(9, "reluScale", 0, true, HUGE_VAL, false);
  args_.disjoint(dx, dy);
  args_.disjoint(dx, x);
  args_.disjoint(dx, w);
  args_.disjoint(dx, dw);
  args_.disjoint(dx, db);
  args_.disjoint(dx, reluOf);
  args_.disjoint(dw, dy);
  args_.disjoint(dw, x);
  args_.disjoint(dw, w);
  args_.disjoint(dw, db);
  args_.disjoint(dw, reluOf);
  args_.disjoint(db, dy);
  args_.disjoint(db, x);
  args_.disjoint(db, w);
  args_.disjoint(db, reluOf);
  if (reluOf && !overwriteDx) args_.fail("reluOf (the relu backward fused into dx) needs overwriteDx: the gate applies to the whole of dx");
  if (reluScale != 1.0 && !reluOf) args_.fail("reluScale (the factor on the gated dx) needs reluOf: without the gate there is nothing it applies to");
  const LinearBackward params_{dy, x, w, dx, dw, db, overwriteDx, reluOf, overwriteDw, reluScale, N, M, K};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value linearFanout(const Napi::CallbackInfo& info_) {
  Args args_(info_, "linearFanout", 8);
  const int64_t N = args_.dim(4, "N");
  const int64_t K = args_.dim(5, "K");
  const int64_t G = args_.dim(6, "G");
  const int64_t M = args_.dim(7, "M");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {N, K}, false);
  const F32 w = Dev::tensor(args_, info_, 1, "w", {G, M, K}, false);
  const F32 b = Dev::tensor(args_, info_, 2, "b", {G, M}, true);
  const F32 y = Dev::tensor(args_, info_, 3, "y", {G, N, M}, false);
  args_.disjoint(y, x);
  args_.disjoint(y, w);
  args_.disjoint(y, b);
  const LinearFanout params_{x, w, b, y, N, K, G, M};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value linearFanoutBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "linearFanoutBackward", 12);
  const int64_t G = args_.dim(8, "G");
  const int64_t N = args_.dim(9, "N");
  const int64_t M = args_.dim(10, "M");
  const int64_t K = args_.dim(11, "K");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {G, N, M}, false);
  const F32 x = Dev::tensor(args_, info_, 1, "x", {N, K}, false);
  const F32 w = Dev::tensor(args_, info_, 2, "w", {G, M, K}, false);
  const F32 dx = Dev::tensor(args_, info_, 3, "dx", {N, K}, true);
  const F32 dw = Dev::tensor(args_, info_, 4, "dw", {G, M, K}, true);
  const F32 db = Dev::tensor(args_, info_, 5, "db", {G, M}, true);
  const int64_t overwriteDx = args_.integer(6, "overwriteDx", 0LL, 1LL);
  const int64_t overwriteDw = args_.integer(7, "overwriteDw", 0LL, 1LL);
  args_.disjoint(dx, dy);
  args_.disjoint(dx, x);
  args_.disjoint(dx, w);
  args_.disjoint(dx, dw);
  args_.disjoint(dx, db);
  args_.disjoint(dw, dy);
  args_.disjoint(dw, x);
  args_.disjoint(dw, w);
  args_.disjoint(dw, db);
  args_.disjoint(db, dy);
  args_.disjoint(db, x);
  args_.disjoint(db, w);
  const LinearFanoutBackward params_{dy, x, w, dx, dw, db, overwriteDx, overwriteDw, G, N, M, K};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value startToken(const Napi::CallbackInfo& info_) {
  Args args_(info_, "startToken", 6);
  const int64_t B = args_.dim(3, "B");
  const int64_t T = args_.count(4, "T");
  const int64_t D = args_.dim(5, "D");
  const F32 e = Dev::tensor(args_, info_, 0, "e", {B, T, D}, false);
  const F32 token = Dev::tensor(args_, info_, 1, "token", {D}, false);
  const F32 h = Dev::tensor(args_, info_, 2, "h", {B, (T+1), D}, false);
  args_.disjoint(h, e);
  args_.disjoint(h, token);
  const StartToken params_{e, token, h, B, T, D};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value startTokenBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "startTokenBackward", 6);
  const int64_t B = args_.dim(3, "B");
  const int64_t T = args_.count(4, "T");
  const int64_t D = args_.dim(5, "D");
  const F32 dh = Dev::tensor(args_, info_, 0, "dh", {B, (T+1), D}, false);
  const F32 de = Dev::tensor(args_, info_, 1, "de", {B, T, D}, true);
  const F32 dtoken = Dev::tensor(args_, info_, 2, "dtoken", {D}, true);
  args_.disjoint(de, dh);
  args_.disjoint(de, dtoken);
  args_.disjoint(dtoken, dh);
  const StartTokenBackward params_{dh, de, dtoken, B, T, D};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value rmsNorm(const Napi::CallbackInfo& info_) {
  Args args_(info_, "rmsNorm", 7);
  const int64_t N = args_.dim(5, "N");
  const int64_t D = args_.dim(6, "D");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {N, D}, false);
  const F32 scale = Dev::tensor(args_, info_, 1, "scale", {D}, false);
  const double eps = args_.number_range(2, "eps", 0, true, HUGE_VAL, false);
  const F32 y = Dev::tensor(args_, info_, 3, "y", {N, D}, false);
  const F32 rstd = Dev::tensor(args_, info_, 4, "rstd", {N}, false);
  args_.disjoint(y, x);
  args_.disjoint(y, scale);
  args_.disjoint(y, rstd);
  args_.disjoint(rstd, x);
  args_.disjoint(rstd, scale);
  const RmsNorm params_{x, scale, eps, y, rstd, N, D};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value rmsNormBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "rmsNormBackward", 8);
  const int64_t N = args_.dim(6, "N");
  const int64_t D = args_.dim(7, "D");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {N, D}, false);
  const F32 x = Dev::tensor(args_, info_, 1, "x", {N, D}, false);
  const F32 scale = Dev::tensor(args_, info_, 2, "scale", {D}, false);
  const F32 rstd = Dev::tensor(args_, info_, 3, "rstd", {N}, false);
  const F32 dx = Dev::tensor(args_, info_, 4, "dx", {N, D}, false);
  const F32 dscale = Dev::tensor(args_, info_, 5, "dscale", {D}, true);
  args_.disjoint(dx, dy);
  args_.disjoint(dx, x);
  args_.disjoint(dx, scale);
  args_.disjoint(dx, rstd);
  args_.disjoint(dx, dscale);
  args_.disjoint(dscale, dy);
  args_.disjoint(dscale, x);
  args_.disjoint(dscale, scale);
  args_.disjoint(dscale, rstd);
  const RmsNormBackward params_{dy, x, scale, rstd, dx, dscale, N, D};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value layerNorm(const Napi::CallbackInfo& info_) {
  Args args_(info_, "layerNorm", 9);
  const int64_t N = args_.dim(7, "N");
  const int64_t C = args_.dim(8, "C");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {N, C}, false);
  const F32 gamma = Dev::tensor(args_, info_, 1, "gamma", {C}, false);
  const F32 beta = Dev::tensor(args_, info_, 2, "beta", {C}, false);
  const double eps = args_.number_range(3, "eps", 0, true, HUGE_VAL, false);
  const F32 y = Dev::tensor(args_, info_, 4, "y", {N, C}, false);
  const F32 mean = Dev::tensor(args_, info_, 5, "mean", {N}, false);
  const F32 rstd = Dev::tensor(args_, info_, 6, "rstd", {N}, false);
  args_.disjoint(y, x);
  args_.disjoint(y, gamma);
  args_.disjoint(y, beta);
  args_.disjoint(y, mean);
  args_.disjoint(y, rstd);
  args_.disjoint(mean, x);
  args_.disjoint(mean, gamma);
  args_.disjoint(mean, beta);
  args_.disjoint(mean, rstd);
  args_.disjoint(rstd, x);
  args_.disjoint(rstd, gamma);
  args_.disjoint(rstd, beta);
  const LayerNorm params_{x, gamma, beta, eps, y, mean, rstd, N, C};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value layerNormBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "layerNormBackward", 10);
  const int64_t N = args_.dim(8, "N");
  const int64_t C = args_.dim(9, "C");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {N, C}, false);
  const F32 x = Dev::tensor(args_, info_, 1, "x", {N, C}, false);
  const F32 gamma = Dev::tensor(args_, info_, 2, "gamma", {C}, false);
  const F32 mean = Dev::tensor(args_, info_, 3, "mean", {N}, false);
  const F32 rstd = Dev::tensor(args_, info_, 4, "rstd", {N}, false);
  const F32 dx = Dev::tensor(args_, info_, 5, "dx", {N, C}, false);
  const F32 dgamma = Dev::tensor(args_, info_, 6, "dgamma", {C}, true);
  const F32 dbeta = Dev::tensor(args_, info_, 7, "dbeta", {C}, true);
  args_.disjoint(dx, dy);
  args_.disjoint(dx, x);
  args_.disjoint(dx, gamma);
  args_.disjoint(dx, mean);
  args_.disjoint(dx, rstd);
  args_.disjoint(dx, dgamma);
  args_.disjoint(dx, dbeta);
  args_.disjoint(dgamma, dy);
  args_.disjoint(dgamma, x);
  args_.disjoint(dgamma, gamma);
  args_.disjoint(dgamma, mean);
  args_.disjoint(dgamma, rstd);
  args_.disjoint(dgamma, dbeta);
  args_.disjoint(dbeta, dy);
  args_.disjoint(dbeta, x);
  args_.disjoint(dbeta, gamma);
  args_.disjoint(dbeta, mean);
  args_.disjoint(dbeta, rstd);
  const LayerNormBackward params_{dy, x, gamma, mean, rstd, dx, dgamma, dbeta, N, C};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value relu(const Napi::CallbackInfo& info_) {
  Args args_(info_, "relu", 3);
  const int64_t n = args_.dim(2, "n");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {n}, false);
  const F32 y = Dev::tensor(args_, info_, 1, "y", {n}, false);
  args_.same_or_disjoint(y, x);
  const Relu params_{x, y, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value reluBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "reluBackward", 4);
  const int64_t n = args_.dim(3, "n");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {n}, false);
  const F32 y = Dev::tensor(args_, info_, 1, "y", {n}, false);
  const F32 dx = Dev::tensor(args_, info_, 2, "dx", {n}, false);
  args_.same_or_disjoint(dx, dy);
  args_.same_or_disjoint(dx, y);
  const ReluBackward params_{dy, y, dx, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value gelu(const Napi::CallbackInfo& info_) {
  Args args_(info_, "gelu", 3);
  const int64_t n = args_.dim(2, "n");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {n}, false);
  const F32 y = Dev::tensor(args_, info_, 1, "y", {n}, false);
  args_.same_or_disjoint(y, x);
  const Gelu params_{x, y, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value geluBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "geluBackward", 4);
  const int64_t n = args_.dim(3, "n");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {n}, false);
  const F32 x = Dev::tensor(args_, info_, 1, "x", {n}, false);
  const F32 dx = Dev::tensor(args_, info_, 2, "dx", {n}, false);
  args_.same_or_disjoint(dx, dy);
  args_.same_or_disjoint(dx, x);
  const GeluBackward params_{dy, x, dx, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value dropout(const Napi::CallbackInfo& info_) {
  Args args_(info_, "dropout", 7);
  const int64_t n = args_.dim(6, "n");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {n}, false);
  const F32 y = Dev::tensor(args_, info_, 1, "y", {n}, false);
  const double p = args_.number_range(2, "p", 0, false, 1, true);
  const int64_t seed = args_.integer(3, "seed", 0LL, 9007199254740991LL);
  const int64_t step = args_.integer(4, "step", 0LL, 4294967295LL);
  const int64_t site = args_.integer(5, "site", 0LL, 4294967295LL);
  args_.same_or_disjoint(y, x);
  const Dropout params_{x, y, p, seed, step, site, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value dropoutBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "dropoutBackward", 7);
  const int64_t n = args_.dim(6, "n");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {n}, false);
  const F32 dx = Dev::tensor(args_, info_, 1, "dx", {n}, false);
  const double p = args_.number_range(2, "p", 0, false, 1, true);
  const int64_t seed = args_.integer(3, "seed", 0LL, 9007199254740991LL);
  const int64_t step = args_.integer(4, "step", 0LL, 4294967295LL);
  const int64_t site = args_.integer(5, "site", 0LL, 4294967295LL);
  args_.same_or_disjoint(dx, dy);
  const DropoutBackward params_{dy, dx, p, seed, step, site, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value ropeAttention(const Napi::CallbackInfo& info_) {
  Args args_(info_, "ropeAttention", 14);
  const int64_t B = args_.dim(10, "B");
  const int64_t S = args_.dim(11, "S");
  const int64_t D = args_.dim(12, "D");
  const int64_t H = args_.dim(13, "H");
  if (!(D % H == 0)) args_.fail("model width D = " + std::to_string(D) + " is not divisible by heads = " + std::to_string(H));
  if (!((D / H) % 4 == 0)) args_.fail("head dim d = D/heads = " + std::to_string(D) + "/" + std::to_string(H) + " = " + std::to_string(D/H) + " must be a multiple of 4 (RoPE rotates d/2 features in pairs)");
  const F32 q = Dev::tensor(args_, info_, 0, "q", {B, S, D}, false);
  const F32 k = Dev::tensor(args_, info_, 1, "k", {B, S, D}, false);
  const F32 v = Dev::tensor(args_, info_, 2, "v", {B, S, D}, false);
  const F32 out = Dev::tensor(args_, info_, 3, "out", {B, S, D}, false);
  const F32 lse = Dev::tensor(args_, info_, 4, "lse", {B, H, S}, false);
  const double p = args_.number_range(5, "p", 0, false, 1, true);
  const int64_t seed = args_.integer(6, "seed", 0LL, 9007199254740991LL);
  const int64_t step = args_.integer(7, "step", 0LL, 4294967295LL);
  const int64_t site = args_.integer(8, "site", 0LL, 4294967295LL);
  const F32 reserve = Dev::tensor(args_, info_, 9, "reserve", {B, H, S, S}, true);
  args_.disjoint(out, q);
  args_.disjoint(out, k);
  args_.disjoint(out, v);
  args_.disjoint(out, lse);
  args_.disjoint(out, reserve);
  args_.disjoint(lse, q);
  args_.disjoint(lse, k);
  args_.disjoint(lse, v);
  args_.disjoint(lse, reserve);
  args_.disjoint(reserve, q);
  args_.disjoint(reserve, k);
  args_.disjoint(reserve, v);
  const RopeAttention params_{q, k, v, out, lse, p, seed, step, site, reserve, B, S, D, H};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value ropeAttentionBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "ropeAttentionBackward", 19);
  const int64_t B = args_.dim(15, "B");
  const int64_t S = args_.dim(16, "S");
  const int64_t D = args_.dim(17, "D");
  const int64_t H = args_.dim(18, "H");
  if (!(D % H == 0)) args_.fail("model width D = " + std::to_string(D) + " is not divisible by heads = " + std::to_string(H));
  if (!((D / H) % 4 == 0)) args_.fail("head dim d = D/heads = " + std::to_string(D) + "/" + std::to_string(H) + " = " + std::to_string(D/H) + " must be a multiple of 4 (RoPE rotates d/2 features in pairs)");
  const F32 dout = Dev::tensor(args_, info_, 0, "dout", {B, S, D}, false);
  const F32 q = Dev::tensor(args_, info_, 1, "q", {B, S, D}, false);
  const F32 k = Dev::tensor(args_, info_, 2, "k", {B, S, D}, false);
  const F32 v = Dev::tensor(args_, info_, 3, "v", {B, S, D}, false);
  const F32 out = Dev::tensor(args_, info_, 4, "out", {B, S, D}, false);
  const F32 lse = Dev::tensor(args_, info_, 5, "lse", {B, H, S}, false);
  const F32 dq = Dev::tensor(args_, info_, 6, "dq", {B, S, D}, false);
  const F32 dk = Dev::tensor(args_, info_, 7, "dk", {B, S, D}, false);
  const F32 dv = Dev::tensor(args_, info_, 8, "dv", {B, S, D}, false);
  const double p = args_.number_range(9, "p", 0, false, 1, true);
  const int64_t seed = args_.integer(10, "seed", 0LL, 9007199254740991LL);
  const int64_t step = args_.integer(11, "step", 0LL, 4294967295LL);
  const int64_t site = args_.integer(12, "site", 0LL, 4294967295LL);
  const int64_t overwrite = args_.integer(13, "overwrite", 0LL, 1LL);
  const F32 reserve = Dev::tensor(args_, info_, 14, "reserve", {B, H, S, S}, true);
  args_.disjoint(dq, dout);
  args_.disjoint(dq, q);
  args_.disjoint(dq, k);
  args_.disjoint(dq, v);
  args_.disjoint(dq, out);
  args_.disjoint(dq, lse);
  args_.disjoint(dq, dk);
  args_.disjoint(dq, dv);
  args_.disjoint(dq, reserve);
  args_.disjoint(dk, dout);
  args_.disjoint(dk, q);
  args_.disjoint(dk, k);
  args_.disjoint(dk, v);
  args_.disjoint(dk, out);
  args_.disjoint(dk, lse);
  args_.disjoint(dk, dv);
  args_.disjoint(dk, reserve);
  args_.disjoint(dv, dout);
  args_.disjoint(dv, q);
  args_.disjoint(dv, k);
  args_.disjoint(dv, v);
  args_.disjoint(dv, out);
  args_.disjoint(dv, lse);
  args_.disjoint(dv, reserve);
  const RopeAttentionBackward params_{dout, q, k, v, out, lse, dq, dk, dv, p, seed, step, site, overwrite, reserve, B, S, D, H};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value add(const Napi::CallbackInfo& info_) {
  Args args_(info_, "add", 8);
  const int64_t n = args_.dim(7, "n");
  const F32 a = Dev::tensor(args_, info_, 0, "a", {n}, false);
  const F32 b = Dev::tensor(args_, info_, 1, "b", {n}, false);
  const F32 y = Dev::tensor(args_, info_, 2, "y", {n}, false);
  const double p = args_.number_range(3, "p", 0, false, 1, true);
  const int64_t seed = args_.integer(4, "seed", 0LL, 9007199254740991LL);
  const int64_t step = args_.integer(5, "step", 0LL, 4294967295LL);
  const int64_t site = args_.integer(6, "site", 0LL, 4294967295LL);
  args_.same_or_disjoint(y, a);
  args_.same_or_disjoint(y, b);
  const Add params_{a, b, y, p, seed, step, site, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value accumulate(const Napi::CallbackInfo& info_) {
  Args args_(info_, "accumulate", 4);
  const int64_t n = args_.dim(3, "n");
  const F32 src = Dev::tensor(args_, info_, 0, "src", {n}, false);
  const F32 dst = Dev::tensor(args_, info_, 1, "dst", {n}, false);
  const double alpha = args_.number_range(2, "alpha", -HUGE_VAL, false, HUGE_VAL, false);
  args_.same_or_disjoint(dst, src);
  const Accumulate params_{src, dst, alpha, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value scale(const Napi::CallbackInfo& info_) {
  Args args_(info_, "scale", 3);
  const int64_t n = args_.dim(2, "n");
  const F32 x = Dev::tensor(args_, info_, 0, "x", {n}, false);
  const double s = args_.number_range(1, "s", -HUGE_VAL, false, HUGE_VAL, false);
  const Scale params_{x, s, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value meanPool(const Napi::CallbackInfo& info_) {
  Args args_(info_, "meanPool", 5);
  const int64_t B = args_.dim(2, "B");
  const int64_t S = args_.dim(3, "S");
  const int64_t D = args_.dim(4, "D");
  const F32 h = Dev::tensor(args_, info_, 0, "h", {B, S, D}, false);
  const F32 z = Dev::tensor(args_, info_, 1, "z", {B, D}, false);
  args_.disjoint(z, h);
  const MeanPool params_{h, z, B, S, D};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value meanPoolBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "meanPoolBackward", 5);
  const int64_t B = args_.dim(2, "B");
  const int64_t D = args_.dim(3, "D");
  const int64_t S = args_.dim(4, "S");
  const F32 dz = Dev::tensor(args_, info_, 0, "dz", {B, D}, false);
  const F32 dh = Dev::tensor(args_, info_, 1, "dh", {B, S, D}, false);
  args_.disjoint(dh, dz);
  const MeanPoolBackward params_{dz, dh, B, D, S};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value gradReverse(const Napi::CallbackInfo& info_) {
  Args args_(info_, "gradReverse", 4);
  const int64_t n = args_.dim(3, "n");
  const F32 dy = Dev::tensor(args_, info_, 0, "dy", {n}, false);
  const F32 dx = Dev::tensor(args_, info_, 1, "dx", {n}, false);
  const double lambda = args_.number_range(2, "lambda", 0, false, HUGE_VAL, false);
  args_.same_or_disjoint(dx, dy);
  const GradReverse params_{dy, dx, lambda, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value hrLoss(const Napi::CallbackInfo& info_) {
  Args args_(info_, "hrLoss", 13);
  const int64_t B = args_.dim(11, "B");
  const int64_t G = args_.dim(12, "G");
  const F32 out = Dev::tensor(args_, info_, 0, "out", {B, 2}, false);
  const F32 hr = Dev::tensor(args_, info_, 1, "hr", {B}, false);
  const F32 w = Dev::tensor(args_, info_, 2, "w", {B}, false);
  const F32 group = Dev::tensor(args_, info_, 3, "group", {B}, false);
  const double lambda = args_.number_range(4, "lambda", 0, false, HUGE_VAL, false);
  const double eps = args_.number_range(5, "eps", 0, true, 0.5, true);
  const F32 pred = Dev::tensor(args_, info_, 6, "pred", {B}, false);
  const F32 sampleLoss = Dev::tensor(args_, info_, 7, "sampleLoss", {B}, false);
  const F32 loss = Dev::tensor(args_, info_, 8, "loss", {1}, false);
  const F32 groupLossSum = Dev::tensor(args_, info_, 9, "groupLossSum", {G}, false);
  const F32 groupCount = Dev::tensor(args_, info_, 10, "groupCount", {G}, false);
  args_.disjoint(pred, out);
  args_.disjoint(pred, hr);
  args_.disjoint(pred, w);
  args_.disjoint(pred, group);
  args_.disjoint(pred, sampleLoss);
  args_.disjoint(pred, loss);
  args_.disjoint(pred, groupLossSum);
  args_.disjoint(pred, groupCount);
  args_.disjoint(sampleLoss, out);
  args_.disjoint(sampleLoss, hr);
  args_.disjoint(sampleLoss, w);
  args_.disjoint(sampleLoss, group);
  args_.disjoint(sampleLoss, loss);
  args_.disjoint(sampleLoss, groupLossSum);
  args_.disjoint(sampleLoss, groupCount);
  args_.disjoint(loss, out);
  args_.disjoint(loss, hr);
  args_.disjoint(loss, w);
  args_.disjoint(loss, group);
  args_.disjoint(loss, groupLossSum);
  args_.disjoint(loss, groupCount);
  args_.disjoint(groupLossSum, out);
  args_.disjoint(groupLossSum, hr);
  args_.disjoint(groupLossSum, w);
  args_.disjoint(groupLossSum, group);
  args_.disjoint(groupLossSum, groupCount);
  args_.disjoint(groupCount, out);
  args_.disjoint(groupCount, hr);
  args_.disjoint(groupCount, w);
  args_.disjoint(groupCount, group);
  Dev::group_ids(args_, group, G);
  const HrLoss params_{out, hr, w, group, lambda, eps, pred, sampleLoss, loss, groupLossSum, groupCount, B, G};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value hrLossBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "hrLossBackward", 8);
  const int64_t B = args_.dim(7, "B");
  const F32 out = Dev::tensor(args_, info_, 0, "out", {B, 2}, false);
  const F32 hr = Dev::tensor(args_, info_, 1, "hr", {B}, false);
  const F32 w = Dev::tensor(args_, info_, 2, "w", {B}, false);
  const double lambda = args_.number_range(3, "lambda", 0, false, HUGE_VAL, false);
  const double eps = args_.number_range(4, "eps", 0, true, 0.5, true);
  const F32 dout = Dev::tensor(args_, info_, 5, "dout", {B, 2}, false);
  const double scale = args_.number_range(6, "scale", -HUGE_VAL, false, HUGE_VAL, false);
  args_.disjoint(dout, out);
  args_.disjoint(dout, hr);
  args_.disjoint(dout, w);
  const HrLossBackward params_{out, hr, w, lambda, eps, dout, scale, B};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value nextPatchNll(const Napi::CallbackInfo& info_) {
  Args args_(info_, "nextPatchNll", 8);
  const int64_t B = args_.dim(4, "B");
  const int64_t S = args_.dim(5, "S");
  const int64_t P = args_.dim(6, "P");
  const int64_t T = args_.dim(7, "T");
  if (!(T <= S - 1)) args_.fail("x has T = " + std::to_string(T) + " patches but params has S = " + std::to_string(S) + " tokens (need T ≤ S − 1)");
  const F32 params = Dev::tensor(args_, info_, 0, "params", {B, S, (2*P)}, false);
  const F32 x = Dev::tensor(args_, info_, 1, "x", {B, (T*P)}, false);
  const double eps = args_.number_range(2, "eps", 0, true, 0.5, true);
  const F32 loss = Dev::tensor(args_, info_, 3, "loss", {1}, false);
  args_.disjoint(loss, params);
  args_.disjoint(loss, x);
  const NextPatchNll params_{params, x, eps, loss, B, S, P, T};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value nextPatchNllBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "nextPatchNllBackward", 9);
  const int64_t B = args_.dim(5, "B");
  const int64_t S = args_.dim(6, "S");
  const int64_t P = args_.dim(7, "P");
  const int64_t T = args_.dim(8, "T");
  if (!(T <= S - 1)) args_.fail("x has T = " + std::to_string(T) + " patches but params has S = " + std::to_string(S) + " tokens (need T ≤ S − 1)");
  const F32 params = Dev::tensor(args_, info_, 0, "params", {B, S, (2*P)}, false);
  const F32 x = Dev::tensor(args_, info_, 1, "x", {B, (T*P)}, false);
  const double eps = args_.number_range(2, "eps", 0, true, 0.5, true);
  const F32 dparams = Dev::tensor(args_, info_, 3, "dparams", {B, S, (2*P)}, false);
  const double scale = args_.number_range(4, "scale", -HUGE_VAL, false, HUGE_VAL, false);
  args_.disjoint(dparams, params);
  args_.disjoint(dparams, x);
  const NextPatchNllBackward params_{params, x, eps, dparams, scale, B, S, P, T};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value bceWithLogits(const Napi::CallbackInfo& info_) {
  Args args_(info_, "bceWithLogits", 5);
  const int64_t N = args_.dim(3, "N");
  const int64_t C = args_.dim(4, "C");
  const F32 logits = Dev::tensor(args_, info_, 0, "logits", {N, C}, false);
  const F32 targets = Dev::tensor(args_, info_, 1, "targets", {N, C}, false);
  const F32 loss = Dev::tensor(args_, info_, 2, "loss", {1}, false);
  args_.disjoint(loss, logits);
  args_.disjoint(loss, targets);
  const BceWithLogits params_{logits, targets, loss, N, C};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value bceWithLogitsBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "bceWithLogitsBackward", 6);
  const int64_t N = args_.dim(4, "N");
  const int64_t C = args_.dim(5, "C");
  const F32 logits = Dev::tensor(args_, info_, 0, "logits", {N, C}, false);
  const F32 targets = Dev::tensor(args_, info_, 1, "targets", {N, C}, false);
  const F32 dlogits = Dev::tensor(args_, info_, 2, "dlogits", {N, C}, false);
  const double scale = args_.number_range(3, "scale", -HUGE_VAL, false, HUGE_VAL, false);
  args_.disjoint(dlogits, logits);
  args_.disjoint(dlogits, targets);
  const BceWithLogitsBackward params_{logits, targets, dlogits, scale, N, C};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value softmaxCrossEntropy(const Napi::CallbackInfo& info_) {
  Args args_(info_, "softmaxCrossEntropy", 5);
  const int64_t N = args_.dim(3, "N");
  const int64_t C = args_.dim(4, "C");
  const F32 logits = Dev::tensor(args_, info_, 0, "logits", {N, C}, false);
  const F32 targets = Dev::tensor(args_, info_, 1, "targets", {N, C}, false);
  const F32 loss = Dev::tensor(args_, info_, 2, "loss", {1}, false);
  args_.disjoint(loss, logits);
  args_.disjoint(loss, targets);
  const SoftmaxCrossEntropy params_{logits, targets, loss, N, C};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value softmaxCrossEntropyBackward(const Napi::CallbackInfo& info_) {
  Args args_(info_, "softmaxCrossEntropyBackward", 6);
  const int64_t N = args_.dim(4, "N");
  const int64_t C = args_.dim(5, "C");
  const F32 logits = Dev::tensor(args_, info_, 0, "logits", {N, C}, false);
  const F32 targets = Dev::tensor(args_, info_, 1, "targets", {N, C}, false);
  const F32 dlogits = Dev::tensor(args_, info_, 2, "dlogits", {N, C}, false);
  const double scale = args_.number_range(3, "scale", -HUGE_VAL, false, HUGE_VAL, false);
  args_.disjoint(dlogits, logits);
  args_.disjoint(dlogits, targets);
  const SoftmaxCrossEntropyBackward params_{logits, targets, dlogits, scale, N, C};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value oneHot(const Napi::CallbackInfo& info_) {
  Args args_(info_, "oneHot", 4);
  const int64_t B = args_.dim(2, "B");
  const int64_t G = args_.dim(3, "G");
  const F32 ids = Dev::tensor(args_, info_, 0, "ids", {B}, false);
  const F32 out = Dev::tensor(args_, info_, 1, "out", {B, G}, false);
  args_.disjoint(out, ids);
  Dev::group_ids(args_, ids, G);
  const OneHot params_{ids, out, B, G};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value groupDroUpdate(const Napi::CallbackInfo& info_) {
  Args args_(info_, "groupDroUpdate", 8);
  const int64_t G = args_.dim(6, "G");
  const int64_t B = args_.dim(7, "B");
  const F32 q = Dev::tensor(args_, info_, 0, "q", {G}, false);
  const F32 groupLossSum = Dev::tensor(args_, info_, 1, "groupLossSum", {G}, false);
  const F32 groupCount = Dev::tensor(args_, info_, 2, "groupCount", {G}, false);
  const double eta = args_.number_range(3, "eta", 0, false, HUGE_VAL, false);
  const F32 group = Dev::tensor(args_, info_, 4, "group", {B}, false);
  const F32 w = Dev::tensor(args_, info_, 5, "w", {B}, false);
  args_.disjoint(q, groupLossSum);
  args_.disjoint(q, groupCount);
  args_.disjoint(q, group);
  args_.disjoint(q, w);
  args_.disjoint(w, groupLossSum);
  args_.disjoint(w, groupCount);
  args_.disjoint(w, group);
  Dev::group_ids(args_, group, G);
  const GroupDroUpdate params_{q, groupLossSum, groupCount, eta, group, w, G, B};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value groupLossReweight(const Napi::CallbackInfo& info_) {
  Args args_(info_, "groupLossReweight", 8);
  const int64_t G = args_.dim(6, "G");
  const int64_t B = args_.dim(7, "B");
  const F32 groupLossSum = Dev::tensor(args_, info_, 0, "groupLossSum", {G}, false);
  const F32 groupCount = Dev::tensor(args_, info_, 1, "groupCount", {G}, false);
  const double eta = args_.number_range(2, "eta", 0, false, HUGE_VAL, false);
  const F32 group = Dev::tensor(args_, info_, 3, "group", {B}, false);
  const F32 gw = Dev::tensor(args_, info_, 4, "gw", {G}, false);
  const F32 w = Dev::tensor(args_, info_, 5, "w", {B}, false);
  args_.disjoint(gw, groupLossSum);
  args_.disjoint(gw, groupCount);
  args_.disjoint(gw, group);
  args_.disjoint(gw, w);
  args_.disjoint(w, groupLossSum);
  args_.disjoint(w, groupCount);
  args_.disjoint(w, group);
  Dev::group_ids(args_, group, G);
  const GroupLossReweight params_{groupLossSum, groupCount, eta, group, gw, w, G, B};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value adamw(const Napi::CallbackInfo& info_) {
  Args args_(info_, "adamw", 14);
  const int64_t n = args_.dim(13, "n");
  const F32 param = Dev::tensor(args_, info_, 0, "param", {n}, false);
  const F32 grad = Dev::tensor(args_, info_, 1, "grad", {n}, false);
  const F32 m = Dev::tensor(args_, info_, 2, "m", {n}, false);
  const F32 v = Dev::tensor(args_, info_, 3, "v", {n}, false);
  const double lr = args_.number_range(4, "lr", 0, false, HUGE_VAL, false);
  const double beta1 = args_.number_range(5, "beta1", 0, false, 1, true);
  const double beta2 = args_.number_range(6, "beta2", 0, false, 1, true);
  const double eps = args_.number_range(7, "eps", 0, true, HUGE_VAL, false);
  const double weightDecay = args_.number_range(8, "weightDecay", 0, false, HUGE_VAL, false);
  const int64_t step = args_.integer(9, "step", 1LL, 9007199254740991LL);
  const double gradScale = args_.number_range(10, "gradScale", 0, true, HUGE_VAL, false);
  const double maxNorm = args_.number_range(11, "maxNorm", 0, false, HUGE_VAL, false);
  const F32 norm = Dev::tensor(args_, info_, 12, "norm", {1}, true);
  args_.disjoint(param, grad);
  args_.disjoint(param, m);
  args_.disjoint(param, v);
  args_.disjoint(param, norm);
  args_.disjoint(m, grad);
  args_.disjoint(m, v);
  args_.disjoint(m, norm);
  args_.disjoint(v, grad);
  args_.disjoint(v, norm);
  const Adamw params_{param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step, gradScale, maxNorm, norm, n};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

template <class Dev>
Napi::Value sumSquares(const Napi::CallbackInfo& info_) {
  Args args_(info_, "sumSquares", 1);
  std::vector<F32> tensors = Dev::tensor_list(args_, info_, 0, "tensors");
  const SumSquares params_{std::move(tensors)};
  const double result_ = run(args_, params_);
  Dev::finish(args_);
  return Napi::Number::New(args_.env(), result_);
}

template <class Dev>
Napi::Value globalNorm(const Napi::CallbackInfo& info_) {
  Args args_(info_, "globalNorm", 2);
  std::vector<F32> tensors = Dev::tensor_list(args_, info_, 0, "tensors");
  const F32 norm = Dev::tensor(args_, info_, 1, "norm", {1}, false);
  const GlobalNorm params_{std::move(tensors), norm};
  run(args_, params_);
  Dev::finish(args_);
  return args_.env().Undefined();
}

}  // namespace glue

// Exports every op of the table.
template <class Dev>
void register_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("linear", Napi::Function::New(env, glue::linear<Dev>, "linear"));
  exports.Set("linearBackward", Napi::Function::New(env, glue::linearBackward<Dev>, "linearBackward"));
  exports.Set("linearFanout", Napi::Function::New(env, glue::linearFanout<Dev>, "linearFanout"));
  exports.Set("linearFanoutBackward", Napi::Function::New(env, glue::linearFanoutBackward<Dev>, "linearFanoutBackward"));
  exports.Set("startToken", Napi::Function::New(env, glue::startToken<Dev>, "startToken"));
  exports.Set("startTokenBackward", Napi::Function::New(env, glue::startTokenBackward<Dev>, "startTokenBackward"));
  exports.Set("rmsNorm", Napi::Function::New(env, glue::rmsNorm<Dev>, "rmsNorm"));
  exports.Set("rmsNormBackward", Napi::Function::New(env, glue::rmsNormBackward<Dev>, "rmsNormBackward"));
  exports.Set("layerNorm", Napi::Function::New(env, glue::layerNorm<Dev>, "layerNorm"));
  exports.Set("layerNormBackward", Napi::Function::New(env, glue::layerNormBackward<Dev>, "layerNormBackward"));
  exports.Set("relu", Napi::Function::New(env, glue::relu<Dev>, "relu"));
  exports.Set("reluBackward", Napi::Function::New(env, glue::reluBackward<Dev>, "reluBackward"));
  exports.Set("gelu", Napi::Function::New(env, glue::gelu<Dev>, "gelu"));
  exports.Set("geluBackward", Napi::Function::New(env, glue::geluBackward<Dev>, "geluBackward"));
  exports.Set("dropout", Napi::Function::New(env, glue::dropout<Dev>, "dropout"));
  exports.Set("dropoutBackward", Napi::Function::New(env, glue::dropoutBackward<Dev>, "dropoutBackward"));
  exports.Set("ropeAttention", Napi::Function::New(env, glue::ropeAttention<Dev>, "ropeAttention"));
  exports.Set("ropeAttentionBackward", Napi::Function::New(env, glue::ropeAttentionBackward<Dev>, "ropeAttentionBackward"));
  exports.Set("add", Napi::Function::New(env, glue::add<Dev>, "add"));
  exports.Set("accumulate", Napi::Function::New(env, glue::accumulate<Dev>, "accumulate"));
  exports.Set("scale", Napi::Function::New(env, glue::scale<Dev>, "scale"));
  exports.Set("meanPool", Napi::Function::New(env, glue::meanPool<Dev>, "meanPool"));
  exports.Set("meanPoolBackward", Napi::Function::New(env, glue::meanPoolBackward<Dev>, "meanPoolBackward"));
  exports.Set("gradReverse", Napi::Function::New(env, glue::gradReverse<Dev>, "gradReverse"));
  exports.Set("hrLoss", Napi::Function::New(env, glue::hrLoss<Dev>, "hrLoss"));
  exports.Set("hrLossBackward", Napi::Function::New(env, glue::hrLossBackward<Dev>, "hrLossBackward"));
  exports.Set("nextPatchNll", Napi::Function::New(env, glue::nextPatchNll<Dev>, "nextPatchNll"));
  exports.Set("nextPatchNllBackward", Napi::Function::New(env, glue::nextPatchNllBackward<Dev>, "nextPatchNllBackward"));
  exports.Set("bceWithLogits", Napi::Function::New(env, glue::bceWithLogits<Dev>, "bceWithLogits"));
  exports.Set("bceWithLogitsBackward", Napi::Function::New(env, glue::bceWithLogitsBackward<Dev>, "bceWithLogitsBackward"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, glue::softmaxCrossEntropy<Dev>, "softmaxCrossEntropy"));
  exports.Set("softmaxCrossEntropyBackward", Napi::Function::New(env, glue::softmaxCrossEntropyBackward<Dev>, "softmaxCrossEntropyBackward"));
  exports.Set("oneHot", Napi::Function::New(env, glue::oneHot<Dev>, "oneHot"));
  exports.Set("groupDroUpdate", Napi::Function::New(env, glue::groupDroUpdate<Dev>, "groupDroUpdate"));
  exports.Set("groupLossReweight", Napi::Function::New(env, glue::groupLossReweight<Dev>, "groupLossReweight"));
  exports.Set("adamw", Napi::Function::New(env, glue::adamw<Dev>, "adamw"));
  exports.Set("sumSquares", Napi::Function::New(env, glue::sumSquares<Dev>, "sumSquares"));
  exports.Set("globalNorm", Napi::Function::New(env, glue::globalNorm<Dev>, "globalNorm"));
}

}  // namespace ftn
