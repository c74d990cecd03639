#!/usr/bin/env python3
"""Fits the polynomial the CPU GELU kernel (kernels/cpu/elementwise.cc) uses for erfc, and prints it.

erfc(u) = t * exp(-u^2 + S(t)), t = 1 / (1 + u/2), for 0 <= u <= 10 (past u = 10 erfc is below the smallest
float32). S is fitted by least squares in the Chebyshev basis on t in [1/6, 1] against log(erfc(u)) + u^2 - log(t)
in double precision, then converted to powers of t and rounded to float32, the form the kernel evaluates by
Horner's rule. The printed errors are those of float32 evaluation (t, Horner and the exponent's argument in
float32, exp exact), relative to erfc in double.
Usage: python3 scripts/fit-erfc.py [degree]   (the kernel uses degree 9; needs numpy, a developer tool, not run
by the tests: test/cpu/gelu.test.ts checks the kernel itself)
"""
import math
import sys

import numpy as np

deg = int(sys.argv[1]) if len(sys.argv) > 1 else 9
t = np.linspace(1 / 6, 1, 20001)
u = 2 * (1 / t - 1)
target = np.array([math.log(math.erfc(x)) + x * x for x in u]) - np.log(t)
cheb = np.polynomial.chebyshev.Chebyshev.fit(t, target, deg, domain=[1 / 6, 1])
coef = cheb.convert(kind=np.polynomial.Polynomial, domain=[-1, 1], window=[-1, 1]).coef.astype(np.float32)

print(f"degree {deg}; coefficients of t^0 .. t^{deg} (float32):")
print(", ".join(f"{float(c):.9g}f" for c in coef))
for lim in (1, 2, 3, 4, 10):
    uu = np.linspace(0, lim, 100001).astype(np.float32)
    tt = np.float32(1) / (np.float32(1) + np.float32(0.5) * uu)
    s = np.float32(coef[-1])
    for a in coef[-2::-1]:
        s = np.float32(s * tt + a)
    approx = tt.astype(np.float64) * np.exp((-(uu * uu) + s).astype(np.float32).astype(np.float64))
    exact = np.array([math.erfc(float(x)) for x in uu])
    print(f"u <= {lim:2d}: max relative error {np.max(np.abs(approx - exact) / exact):.3g}")
