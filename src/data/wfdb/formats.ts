// WFDB signal storage formats: how a stream of samples (all signals of one file, frame by frame,
// interleaved) is packed into bytes. The packed formats (212, 310, 311) pack consecutive samples of that
// stream regardless of which signal they belong to, so decoding works on the stream and the caller
// de-interleaves. Bit layouts follow the WFDB "signal(5)" manual page.

export const SUPPORTED_FORMATS: readonly number[] = [8, 16, 24, 32, 61, 80, 160, 212, 310, 311];

export function isSupportedFormat(format: number): boolean {
  return SUPPORTED_FORMATS.includes(format);
}

/**
 * Samples and bytes of the smallest self-contained unit of a format: reads must start at a unit
 * boundary of the sample stream.
 */
export function packing(format: number): { samples: number; bytes: number } {
  switch (format) {
    case 8:
    case 80:
      return { samples: 1, bytes: 1 };
    case 16:
    case 61:
    case 160:
      return { samples: 1, bytes: 2 };
    case 24:
      return { samples: 1, bytes: 3 };
    case 32:
      return { samples: 1, bytes: 4 };
    case 212:
      return { samples: 2, bytes: 3 };
    case 310:
    case 311:
      return { samples: 3, bytes: 4 };
    default:
      throw new Error(`unsupported WFDB signal format ${format}`);
  }
}

/**
 * Bytes needed to hold `n` stream samples starting at a unit boundary. A final partial unit of a packed
 * format is shortened to the bytes that carry its samples (how the WFDB library writes odd lengths).
 */
export function bytesForSamples(format: number, n: number): number {
  const { samples, bytes } = packing(format);
  const whole = Math.floor(n / samples);
  const rem = n - whole * samples;
  let tail = 0;
  if (rem > 0) {
    if (format === 212) tail = 2; // first sample lives in bytes 0 and the low nibble of byte 1
    else if (format === 310) tail = rem === 1 ? 2 : 4; // sample 2 sits in bits 1–10 of the second word
    else if (format === 311) tail = rem === 1 ? 2 : 3; // samples fill bits 0–9, 10–19 of a 32-bit word
  }
  return whole * bytes + tail;
}

/** Stream samples fully contained in `nBytes` bytes (inverse of bytesForSamples). */
export function samplesInBytes(format: number, nBytes: number): number {
  const { samples, bytes } = packing(format);
  const whole = Math.floor(nBytes / bytes);
  const rem = nBytes - whole * bytes;
  let tail = 0;
  if (format === 212 && rem >= 2) tail = 1;
  else if (format === 310) tail = rem >= 2 ? 1 : 0; // the second sample needs the whole 4-byte unit
  else if (format === 311) tail = rem >= 3 ? 2 : rem >= 2 ? 1 : 0;
  return whole * samples + tail;
}

/**
 * The stored value a format reserves for "invalid sample" (undefined for format 8, whose values are
 * differences). Decoders report it as is; the reader turns it into INVALID_SAMPLE / NaN.
 */
export function invalidValue(format: number): number | undefined {
  switch (format) {
    case 80:
      return -128;
    case 212:
      return -2048;
    case 310:
    case 311:
      return -512;
    case 16:
    case 61:
    case 160:
      return -32768;
    case 24:
      return -(2 ** 23);
    case 32:
      return -(2 ** 31);
    default:
      return undefined;
  }
}

/** ADC resolution assumed when a header does not give one. */
export function defaultAdcResolution(format: number): number {
  switch (format) {
    case 8:
    case 80:
      return 8;
    case 212:
      return 12;
    case 310:
    case 311:
      return 10;
    case 24:
      return 24;
    case 32:
      return 32;
    default:
      return 16;
  }
}

function signExtend(v: number, bits: number): number {
  const shift = 32 - bits;
  return (v << shift) >> shift;
}

/**
 * Decodes `n` stream samples from `bytes` (which start at a unit boundary) into `out`. For format 8 the
 * values are the signed first differences; the caller integrates them per signal.
 */
export function decodeStream(format: number, bytes: Uint8Array, n: number, out: Int32Array): void {
  const need = bytesForSamples(format, n);
  if (bytes.length < need) throw new Error(`decodeStream: ${n} samples of format ${format} need ${need} bytes, got ${bytes.length}`);
  switch (format) {
    case 8:
      for (let i = 0; i < n; i++) out[i] = signExtend(bytes[i], 8);
      return;
    case 80:
      for (let i = 0; i < n; i++) out[i] = bytes[i] - 128;
      return;
    case 16:
      for (let i = 0, p = 0; i < n; i++, p += 2) out[i] = signExtend(bytes[p] | (bytes[p + 1] << 8), 16);
      return;
    case 61:
      for (let i = 0, p = 0; i < n; i++, p += 2) out[i] = signExtend((bytes[p] << 8) | bytes[p + 1], 16);
      return;
    case 160:
      for (let i = 0, p = 0; i < n; i++, p += 2) out[i] = (bytes[p] | (bytes[p + 1] << 8)) - 32768;
      return;
    case 24:
      for (let i = 0, p = 0; i < n; i++, p += 3) out[i] = signExtend(bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16), 24);
      return;
    case 32:
      for (let i = 0, p = 0; i < n; i++, p += 4) out[i] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
      return;
    case 212:
      for (let i = 0, p = 0; i < n; i += 2, p += 3) {
        const b1 = bytes[p + 1];
        out[i] = signExtend(bytes[p] | ((b1 & 0x0f) << 8), 12);
        if (i + 1 < n) out[i + 1] = signExtend(bytes[p + 2] | ((b1 & 0xf0) << 4), 12);
      }
      return;
    case 310:
      for (let i = 0, p = 0; i < n; i += 3, p += 4) {
        const w0 = bytes[p] | (bytes[p + 1] << 8);
        out[i] = signExtend((w0 >> 1) & 0x3ff, 10);
        if (i + 1 >= n) break;
        const w1 = bytes[p + 2] | (bytes[p + 3] << 8);
        out[i + 1] = signExtend((w1 >> 1) & 0x3ff, 10);
        if (i + 2 < n) out[i + 2] = signExtend(((w0 >> 11) & 0x1f) | (((w1 >> 11) & 0x1f) << 5), 10);
      }
      return;
    case 311:
      for (let i = 0, p = 0; i < n; i += 3, p += 4) {
        // Read only the bytes this (possibly partial) unit carries.
        const w = bytes[p] | (bytes[p + 1] << 8) | ((i + 1 < n ? bytes[p + 2] : 0) << 16) | ((i + 2 < n ? bytes[p + 3] : 0) << 24);
        out[i] = signExtend(w & 0x3ff, 10);
        if (i + 1 < n) out[i + 1] = signExtend((w >>> 10) & 0x3ff, 10);
        if (i + 2 < n) out[i + 2] = signExtend((w >>> 20) & 0x3ff, 10);
      }
      return;
    default:
      throw new Error(`unsupported WFDB signal format ${format}`);
  }
}
