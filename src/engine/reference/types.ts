// The core math of the reference backend runs on plain typed arrays so that the same code serves the
// float32 backend (Float32Array storage, float64 accumulation in JS numbers) and the float64 gradient
// checks in the tests (Float64Array everywhere, so finite differences are not swamped by rounding).
export type Vec = Float32Array | Float64Array;
