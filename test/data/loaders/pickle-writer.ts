// A small pickle protocol-2 writer for tests, emitting what Python 2's pickle.dump(obj, f, 2) emits for
// DaLiA-style data: dicts (EMPTY_DICT + SETITEMS), Python 2 str (SHORT_BINSTRING / BINSTRING), unicode,
// bytes keys, ints, floats, and numpy arrays as numpy.core.multiarray._reconstruct + BUILD with
// (1, shape, dtype, is_fortran, rawdata), dtype objects as numpy.dtype('f8', 0, 1) + BUILD, with memo
// PUT/GET for the repeated globals as pickle does.

export class Py2Str {
  constructor(readonly bytes: Uint8Array) {}
  static of(text: string): Py2Str {
    return new Py2Str(Buffer.from(text, 'latin1'));
  }
}
/** Python 3 bytes (SHORT_BINBYTES / BINBYTES). */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
}
export class Float {
  constructor(readonly value: number) {}
}
export class NdArray {
  constructor(
    readonly dtype: 'f8' | 'f4' | 'i4' | 'i8' | 'u1',
    readonly shape: number[],
    readonly values: ArrayLike<number>,
    readonly byteOrder: '<' | '>' = '<',
    readonly fortran = false,
  ) {}
}
export type PyValue = string | number | Float | Py2Str | PyBytes | NdArray | null | PyValue[] | Map<PyValue, PyValue>;

export function writePickle(value: PyValue): Buffer {
  const out: number[] = [];
  const memo = new Map<string, number>();
  const u8 = (b: number) => out.push(b & 0xff);
  const u32 = (v: number) => { for (let i = 0; i < 4; i++) u8(v >>> (8 * i)); };
  const raw = (b: ArrayLike<number>) => { for (let i = 0; i < b.length; i++) out.push(b[i]); };
  const put = (key: string) => { const id = memo.size; memo.set(key, id); u8(0x71); u8(id); }; // BINPUT
  const global = (mod: string, name: string) => {
    const key = `${mod}.${name}`;
    const id = memo.get(key);
    if (id !== undefined) { u8(0x68); u8(id); return; } // BINGET
    u8(0x63); raw(Buffer.from(`${mod}\n${name}\n`, 'latin1')); put(key);
  };
  const str = (b: Uint8Array) => {
    if (b.length < 256) { u8(0x55); u8(b.length); } else { u8(0x54); u32(b.length); }
    raw(b);
  };
  const int = (v: number) => {
    if (v >= 0 && v < 256) { u8(0x4b); u8(v); } else { u8(0x4a); u32(v | 0); }
  };
  const dtype = (code: string, order: string) => {
    global('numpy', 'dtype');
    str(Buffer.from(code)); int(0); int(1); u8(0x87); u8(0x52); // TUPLE3, REDUCE
    u8(0x28); int(3); str(Buffer.from(order)); u8(0x4e); u8(0x4e); u8(0x4e); int(-1); int(-1); int(0); u8(0x74); // MARK … TUPLE
    u8(0x62); // BUILD
  };
  const ndarray = (a: NdArray) => {
    global('numpy.core.multiarray', '_reconstruct');
    global('numpy', 'ndarray');
    int(0); u8(0x85); str(Buffer.from('b')); u8(0x87); u8(0x52); // (ndarray, (0,), 'b') REDUCE
    const n = a.shape.reduce((x, y) => x * y, 1);
    const size = { f8: 8, f4: 4, i4: 4, i8: 8, u1: 1 }[a.dtype];
    const data = Buffer.alloc(n * size);
    const le = a.byteOrder === '<';
    // values are given in C order; a Fortran-order array stores them transposed.
    const index = (c: number): number => {
      if (!a.fortran) return c;
      const idx: number[] = [];
      let r = c;
      for (let k = a.shape.length - 1; k >= 0; k--) { idx[k] = r % a.shape[k]; r = Math.floor(r / a.shape[k]); }
      let off = 0;
      for (let k = a.shape.length - 1; k >= 0; k--) off = off * a.shape[k] + idx[k];
      return off;
    };
    for (let c = 0; c < n; c++) {
      const o = index(c) * size;
      const v = a.values[c];
      if (a.dtype === 'f8') le ? data.writeDoubleLE(v, o) : data.writeDoubleBE(v, o);
      else if (a.dtype === 'f4') le ? data.writeFloatLE(v, o) : data.writeFloatBE(v, o);
      else if (a.dtype === 'i4') le ? data.writeInt32LE(v, o) : data.writeInt32BE(v, o);
      else if (a.dtype === 'i8') le ? data.writeBigInt64LE(BigInt(v), o) : data.writeBigInt64BE(BigInt(v), o);
      else data.writeUInt8(v, o);
    }
    u8(0x28); int(1); // MARK, version 1
    u8(0x28); for (const d of a.shape) int(d); u8(0x74); // shape tuple
    dtype(a.dtype, a.dtype === 'u1' ? '|' : a.byteOrder);
    u8(a.fortran ? 0x88 : 0x89);
    str(data);
    u8(0x74); u8(0x62); // TUPLE, BUILD
  };
  const emit = (v: PyValue): void => {
    if (v === null) u8(0x4e);
    else if (typeof v === 'number') int(v);
    else if (typeof v === 'string') { const b = Buffer.from(v, 'utf8'); u8(0x58); u32(b.length); raw(b); } // BINUNICODE
    else if (v instanceof Float) { u8(0x47); const b = Buffer.alloc(8); b.writeDoubleBE(v.value); raw(b); }
    else if (v instanceof Py2Str) str(v.bytes);
    else if (v instanceof PyBytes) { u8(0x43); u8(v.bytes.length); raw(v.bytes); }
    else if (v instanceof NdArray) ndarray(v);
    else if (Array.isArray(v)) { u8(0x28); v.forEach(emit); u8(0x74); }
    else {
      u8(0x7d); // EMPTY_DICT
      if (v.size > 0) { u8(0x28); for (const [k, val] of v) { emit(k); emit(val); } u8(0x75); } // MARK … SETITEMS
    }
  };
  u8(0x80); u8(2); // PROTO 2
  emit(value);
  u8(0x2e); // STOP
  return Buffer.from(out);
}
