// Unpickling Python-2-era pickles that hold numpy arrays, with pickleparser doing the opcode work and
// this module supplying what pickleparser cannot know: how numpy rebuilds arrays and dtypes
// (numpy.core.multiarray._reconstruct + __setstate__, numpy.dtype + __setstate__, numpy scalars).
//
// Python 2 `str` objects (the array payloads, and most keys) are raw bytes. pickleparser decodes them
// with TextDecoder('ascii'), i.e. windows-1252, which would cost a copy into a (two-byte) JS string per
// payload; instead our reader returns short ones as latin-1 strings (exact for text) and long ones as
// RawBytes views of the file buffer (no copy).

import { BufferReader, NameRegistry, Parser } from 'pickleparser';

/** A Python 2 byte string too long to be text: a view of the pickle's bytes. */
export class RawBytes {
  constructor(readonly bytes: Uint8Array) {}
}

/** Byte strings up to this length are treated as text (keys, questionnaire values). */
const TEXT_LIMIT = 1024;

/**
 * Protocol 0's text lines: UNICODE ('V') is raw-unicode-escape (latin-1 bytes, with \uXXXX and \UXXXXXXXX
 * escapes for anything else, backslash and newline included), STRING ('S') a quoted Python literal with
 * backslash escapes. The parser slices the quotes off an 'S' line itself; both come back decoded.
 */
function decodeTextLine(raw: string): string {
  if (raw.startsWith("'") || raw.startsWith('"')) {
    const q = raw[0];
    const body = raw.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|[\\'"abfnrtv])/g, (_, e: string) => {
      if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
      if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
      return ({ a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' } as Record<string, string>)[e] ?? e;
    });
    return q + body + q;
  }
  return raw.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt((u4 ?? u8) as string, 16)));
}

class Py2Reader extends BufferReader {
  override line(): string {
    // Read as latin-1 (each byte one char) whatever the length: a protocol-0 array payload is one long line.
    const bytes = this.bytes(this.length - this.position);
    const nl = bytes.indexOf(0x0a);
    if (nl < 0) throw new Error('Could not find end of line.');
    this.skip(nl + 1 - bytes.length); // back to just after the newline
    return decodeTextLine(Buffer.from(bytes.buffer, bytes.byteOffset, nl).toString('latin1'));
  }

  override string(size: number, encoding: 'ascii' | 'utf-8'): string {
    if (encoding === 'utf-8') return super.string(size, encoding);
    const v = this.bytes(size);
    const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (size > TEXT_LIMIT) return new RawBytes(b) as unknown as string; // see RawBytes: payloads stay bytes
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  }
}

function bytesOf(v: unknown, what: string): Uint8Array {
  if (v instanceof RawBytes) return v.bytes;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  throw new Error(`${what}: expected a byte string, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `a tuple/list of ${v.length}`;
  if (v instanceof Map) return 'a dict';
  return typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
}

/** numpy dtype, reduced to what arrays of numbers need. */
export class NumpyDtype {
  /** Kind and item size, e.g. "f8", "i4", "u1", "b1". */
  readonly code: string;
  byteOrder: '<' | '>' = '<';
  constructor(descr: unknown) {
    const s = typeof descr === 'string' ? descr : descr instanceof Uint8Array ? Buffer.from(descr).toString('latin1') : '';
    const m = /^([<>|=]?)([fiub])(\d+)$/.exec(s);
    if (!m) throw new Error(`numpy dtype '${String(descr)}' is not supported (only numeric dtypes: f4, f8, i1–i8, u1–u8, b1)`);
    this.code = `${m[2]}${m[3]}`;
    if (m[1] === '>') this.byteOrder = '>';
  }
  get itemSize(): number {
    return Number(this.code.slice(1));
  }
  /** numpy pickles dtypes as dtype(descr, align, copy) followed by BUILD with (version, byteorder, …). */
  __setstate__(state: unknown): void {
    if (!Array.isArray(state) || state.length < 2) throw new Error(`numpy dtype state: expected a tuple, got ${describe(state)}`);
    const order = typeof state[1] === 'string' ? state[1] : Buffer.from(bytesOf(state[1], 'dtype byte order')).toString('latin1');
    if (order === '>') this.byteOrder = '>';
    else if (order === '<' || order === '|' || order === '=') this.byteOrder = '<'; // '=' native: x86/ARM are little-endian
    else throw new Error(`numpy dtype state: unknown byte order '${order}'`);
  }
}

/** A numeric numpy array: shape, dtype and the raw bytes of its data. */
export class NumpyArray {
  shape: number[] = [];
  dtype?: NumpyDtype;
  fortranOrder = false;
  private raw: Uint8Array = new Uint8Array(0);

  /** ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata)); very old pickles omit version. */
  __setstate__(state: unknown): void {
    if (!Array.isArray(state) || (state.length !== 5 && state.length !== 4)) {
      throw new Error(`numpy array state: expected a 4- or 5-tuple, got ${describe(state)}`);
    }
    const [shape, dtype, fortran, data] = state.length === 5 ? state.slice(1) : state;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error('numpy array state: malformed shape');
    if (!(dtype instanceof NumpyDtype)) throw new Error(`numpy array state: expected a dtype, got ${describe(dtype)}`);
    if (Array.isArray(data)) throw new Error('numpy object arrays (lists of Python objects) are not supported');
    this.shape = shape as number[];
    this.dtype = dtype;
    this.fortranOrder = fortran === true || fortran === 1;
    this.raw = bytesOf(data, 'numpy array data');
    const need = this.size * dtype.itemSize;
    if (this.raw.length !== need) {
      throw new Error(`numpy array data: shape [${this.shape.join(', ')}] of ${dtype.code} needs ${need} bytes, the pickle holds ${this.raw.length}`);
    }
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** All elements in logical C (row-major) order, as float64. */
  toFloat64(): Float64Array {
    const dt = this.dtype;
    if (!dt) throw new Error('numpy array was never given its state');
    const n = this.size;
    const out = new Float64Array(n);
    const view = new DataView(this.raw.buffer, this.raw.byteOffset, this.raw.byteLength);
    const le = dt.byteOrder === '<';
    const sz = dt.itemSize;
    const get = ((): ((o: number) => number) => {
      switch (dt.code) {
        case 'f8': return (o) => view.getFloat64(o, le);
        case 'f4': return (o) => view.getFloat32(o, le);
        case 'i1': return (o) => view.getInt8(o);
        case 'i2': return (o) => view.getInt16(o, le);
        case 'i4': return (o) => view.getInt32(o, le);
        case 'i8': return (o) => Number(view.getBigInt64(o, le));
        case 'u1': case 'b1': return (o) => view.getUint8(o);
        case 'u2': return (o) => view.getUint16(o, le);
        case 'u4': return (o) => view.getUint32(o, le);
        case 'u8': return (o) => Number(view.getBigUint64(o, le));
        default: throw new Error(`numpy dtype ${dt.code} is not supported`);
      }
    })();
    if (!this.fortranOrder || this.shape.length < 2) {
      for (let i = 0; i < n; i++) out[i] = get(i * sz);
      return out;
    }
    // Fortran order: element (i0, i1, …) sits at i0 + d0·(i1 + d1·(…)); walk C order and map.
    const dims = this.shape;
    const idx = new Array<number>(dims.length).fill(0);
    for (let c = 0; c < n; c++) {
      let off = 0;
      for (let k = dims.length - 1; k >= 0; k--) off = off * dims[k] + idx[k];
      out[c] = get(off * sz);
      for (let k = dims.length - 1; k >= 0; k--) {
        if (++idx[k] < dims[k]) break;
        idx[k] = 0;
      }
    }
    return out;
  }
}

function makeRegistry(): NameRegistry {
  const reg = new NameRegistry();
  const reconstruct = (_cls: unknown, _shape: unknown, _typecode: unknown) => new NumpyArray();
  const dtype = (descr: unknown) => new NumpyDtype(descr);
  const scalar = (dt: unknown, data: unknown) => {
    if (!(dt instanceof NumpyDtype)) throw new Error('numpy scalar without a dtype');
    const a = new NumpyArray();
    a.__setstate__([1, [], dt, false, data]);
    return a.toFloat64()[0];
  };
  const ndarrayMarker = function ndarray() {
    return undefined;
  };
  for (const mod of ['numpy.core.multiarray', 'numpy._core.multiarray']) {
    reg.register(mod, '_reconstruct', reconstruct);
    reg.register(mod, 'scalar', scalar);
  }
  reg.register('numpy', 'dtype', dtype);
  reg.register('numpy', 'ndarray', ndarrayMarker);
  // Python 3 writing protocol 2 stores bytes as _codecs.encode(text, 'latin1').
  reg.register('_codecs', 'encode', (text: unknown, enc: unknown) => {
    if (typeof text !== 'string') throw new Error('_codecs.encode: expected text');
    const e = String(enc ?? 'utf-8').toLowerCase();
    return new RawBytes(Buffer.from(text, e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1' ? 'latin1' : 'utf8'));
  });
  return reg;
}

/** Unpickles `bytes`; dicts come back as Map (keys exactly as pickled: strings or byte strings). */
export function unpickle(bytes: Uint8Array): unknown {
  const parser = new Parser({ nameResolver: makeRegistry(), unpicklingTypeOfDictionary: 'Map' });
  try {
    return parser.read(new Py2Reader(bytes));
  } catch (e) {
    // A damaged stream trips the parser's own code (an undefined stack entry, a bad length): say what it
    // means for the user rather than pass on a TypeError from inside a library.
    if (e instanceof TypeError || e instanceof RangeError) {
      throw new Error(`not a readable pickle (the file is damaged or truncated): ${e.message}`);
    }
    throw e;
  }
}

/** A key or text value as a JS string (byte strings decoded as latin-1). */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array || v instanceof RawBytes) return Buffer.from(bytesOf(v, 'text')).toString('latin1');
  return undefined;
}

/** Entries of an unpickled dict with string keys (bytes keys decoded as latin-1). */
export function dictEntries(v: unknown): Map<string, unknown> | undefined {
  if (!(v instanceof Map)) return undefined;
  const out = new Map<string, unknown>();
  for (const [k, val] of v) {
    const key = textOf(k);
    if (key !== undefined) out.set(key, val);
  }
  // pickleparser's DICT opcode (protocol 0/1 dict literals) stores entries as properties of the Map.
  for (const [k, val] of Object.entries(v)) if (!out.has(k)) out.set(k, val);
  return out;
}
