#include "loss.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "dispatch.h"

namespace ft {
namespace {

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

double sign(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; }

// Logit-Laplace pieces for value v: u = (1 − 2ε)·clamp(v, 0, 1) + ε (the clamp keeps the log finite for
// labels slightly outside [0, 1]; the reference backend does the same).
struct LogitLaplace {
  double nll;      // log(2b) + log(u(1 − u)) + |logit(u) − μ| / b
  double dmu;      // ∂nll/∂μ
  double dlogb;    // ∂nll/∂log b
};

LogitLaplace logit_laplace(double mu, double logb, double v, double eps) {
  const double u = (1.0 - 2.0 * eps) * std::min(std::max(v, 0.0), 1.0) + eps;
  const double r = std::log(u / (1.0 - u)) - mu;
  const double inv_b = std::exp(-logb);
  LogitLaplace o;
  o.nll = M_LN2 + logb + std::log(u * (1.0 - u)) + std::fabs(r) * inv_b;
  o.dmu = -sign(r) * inv_b;
  o.dlogb = 1.0 - std::fabs(r) * inv_b;
  return o;
}

struct HrSample {
  double pred, loss, dmu, dlogb;
};

HrSample hr_sample(double mu, double logb, double hr, HrLossParams prm) {
  const double eps = prm.eps;
  const double s = sigmoid(mu);
  const double pred = 30.0 + 200.0 * (s - eps) / (1.0 - 2.0 * eps);
  const double v = (std::min(230.0, std::max(30.0, hr)) - 30.0) / 200.0;
  const LogitLaplace ll = logit_laplace(mu, logb, v, eps);
  const double sg = sign(pred - hr);
  HrSample o;
  o.pred = pred;
  o.loss = std::fabs(pred - hr) + prm.lambda * ll.nll;
  o.dmu = sg * 200.0 * s * (1.0 - s) / (1.0 - 2.0 * eps) + prm.lambda * ll.dmu;
  o.dlogb = prm.lambda * ll.dlogb;
  return o;
}

}  // namespace

void hr_loss_forward(const float* out, const float* hr, const float* w, const float* group, HrLossParams prm,
                     float* pred, float* sample_loss, float* loss, float* group_loss_sum, float* group_count,
                     int64_t B, int64_t G) {
  for (int64_t g = 0; g < G; ++g) group_loss_sum[g] = group_count[g] = 0.0f;
  double num = 0;
  // Per-group sums in double, then stored once.
  std::vector<double> gsum((size_t)G, 0.0), gcnt((size_t)G, 0.0);
  for (int64_t i = 0; i < B; ++i) {
    const HrSample s = hr_sample(out[2 * i], out[2 * i + 1], hr[i], prm);
    pred[i] = (float)s.pred;
    sample_loss[i] = (float)s.loss;
    num += (double)w[i] * s.loss;
    const int64_t g = (int64_t)group[i];
    gsum[(size_t)g] += s.loss;
    gcnt[(size_t)g] += 1.0;
  }
  for (int64_t g = 0; g < G; ++g) {
    group_loss_sum[g] = (float)gsum[(size_t)g];
    group_count[g] = (float)gcnt[(size_t)g];
  }
  loss[0] = (float)num;
}

void hr_loss_backward(const float* out, const float* hr, const float* w, HrLossParams prm, float* dout, double scale,
                      int64_t B) {
  for (int64_t i = 0; i < B; ++i) {
    const HrSample s = hr_sample(out[2 * i], out[2 * i + 1], hr[i], prm);
    const double f = scale * (double)w[i];
    dout[2 * i] += (float)(f * s.dmu);
    dout[2 * i + 1] += (float)(f * s.dlogb);
  }
}

void next_patch_nll_forward(const float* params, const float* x, double eps, float* loss, int64_t B, int64_t S,
                            int64_t T, int64_t P) {
  // Per-(b, t) partial sums, reduced in a fixed order so the result does not depend on the thread count.
  const int64_t rows = B * T;
  std::vector<double> partial((size_t)rows);
  parallel_grain(rows, std::max<int64_t>(1, 2048 / P), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / T, t = r % T;
      const float* prm = params + (b * S + t) * 2 * P;
      const float* xv = x + b * T * P + t * P;
      double acc = 0;
      for (int64_t p = 0; p < P; ++p) acc += logit_laplace(prm[p], prm[P + p], xv[p], eps).nll;
      partial[(size_t)r] = acc;
    }
  });
  double sum = 0;
  for (double v : partial) sum += v;
  loss[0] = (float)(sum / (double)(rows * P));
}

void next_patch_nll_backward(const float* params, const float* x, double eps, float* dparams, double scale, int64_t B,
                             int64_t S, int64_t T, int64_t P) {
  const double f = scale / (double)(B * T * P);
  parallel_grain(B * T, std::max<int64_t>(1, 2048 / P), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / T, t = r % T;
      const float* prm = params + (b * S + t) * 2 * P;
      float* dprm = dparams + (b * S + t) * 2 * P;
      const float* xv = x + b * T * P + t * P;
      for (int64_t p = 0; p < P; ++p) {
        const LogitLaplace ll = logit_laplace(prm[p], prm[P + p], xv[p], eps);
        dprm[p] += (float)(f * ll.dmu);
        dprm[P + p] += (float)(f * ll.dlogb);
      }
    }
  });
}

void bce_with_logits_forward(const float* logits, const float* targets, float* loss, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double z = logits[i], y = targets[i];
    sum += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::fabs(z)));
  }
  loss[0] = (float)(sum / (double)n);
}

void bce_with_logits_backward(const float* logits, const float* targets, float* dlogits, double scale, int64_t n) {
  const double f = scale / (double)n;
  for (int64_t i = 0; i < n; ++i) dlogits[i] += (float)(f * (sigmoid(logits[i]) - (double)targets[i]));
}

namespace {

// softmax of row z[0..C) into p (double), returning log Σ exp(z); the row maximum is subtracted first.
double softmax_row(const float* z, int64_t C, std::vector<double>& p) {
  double mx = -HUGE_VAL;
  for (int64_t c = 0; c < C; ++c) mx = std::max(mx, (double)z[c]);
  double sum = 0;
  for (int64_t c = 0; c < C; ++c) sum += (p[(size_t)c] = std::exp((double)z[c] - mx));
  for (int64_t c = 0; c < C; ++c) p[(size_t)c] /= sum;
  return mx + std::log(sum);
}

}  // namespace

void softmax_ce_forward(const float* logits, const float* targets, float* loss, int64_t N, int64_t C) {
  std::vector<double> p((size_t)C);
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* z = logits + n * C;
    const double lse = softmax_row(z, C, p);
    for (int64_t c = 0; c < C; ++c) total -= (double)targets[n * C + c] * ((double)z[c] - lse);
  }
  loss[0] = (float)(total / (double)N);
}

void softmax_ce_backward(const float* logits, const float* targets, float* dlogits, double scale, int64_t N, int64_t C) {
  std::vector<double> p((size_t)C);
  const double f = scale / (double)N;
  for (int64_t n = 0; n < N; ++n) {
    softmax_row(logits + n * C, C, p);
    double mass = 0;
    for (int64_t c = 0; c < C; ++c) mass += targets[n * C + c];
    for (int64_t c = 0; c < C; ++c) dlogits[n * C + c] += (float)(f * (mass * p[(size_t)c] - (double)targets[n * C + c]));
  }
}

}  // namespace ft
