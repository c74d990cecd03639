// Runtime ISA selection. The addon is compiled for the x86-64 baseline; the hot kernels also exist in
// AVX2 and AVX-512 versions (per-function target attributes) and the active level picks among them, so
// one binary runs on any x86-64 machine and uses what it finds. Tests lower the level to cover every path.
#pragma once

#define FT_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
#define FT_TARGET_AVX2 __attribute__((target("avx2,fma")))
// A body written once and inlined into each ISA wrapper, where the vectoriser compiles it for that ISA.
#define FT_INLINE_BODY static inline __attribute__((always_inline))

namespace ft {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The best level this CPU and OS support.
Isa detected_isa();
// The level kernels use now (≤ detected).
Isa active_isa();
// Lowers (or restores) the active level; returns false, changing nothing, if the CPU lacks it.
bool set_isa(Isa isa);
const char* isa_name(Isa isa);
// Parses "avx512" | "avx2" | "scalar"; returns false for anything else.
bool parse_isa(const char* name, Isa* out);
// Whether the CPU is AMD's. Some memory-access choices (a column-major GEMM operand read in place, software
// prefetch in the attention) measured opposite on AMD and Intel, because their hardware prefetchers differ.
// Safe to call from static constructors.
bool cpu_made_by_amd();

}  // namespace ft
