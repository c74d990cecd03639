// The safetensors file format (https://github.com/huggingface/safetensors), written and read by hand:
//   8 bytes   little-endian u64 N = header length
//   N bytes   JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, …,
//                     "__metadata__": { "<key>": "<string>" } }   (padded with spaces to 8 bytes)
//   rest      raw little-endian tensor bytes; offsets are relative to the start of this section
// Used by the dataset cache and by model checkpoints and traces, so it is general (all common dtypes)
// and streams tensor by tensor (a checkpoint may exceed what one Buffer holds).
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import { writeAtomically } from './atomic-write';

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'U64' | 'I32' | 'U32' | 'I16' | 'U16' | 'I8' | 'U8' | 'BOOL';

export type TensorData =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  tensors: Record<string, TensorEntry>;
  metadata: Record<string, string>;
}

type Ctor = { new (n: number): TensorData; name: string };

// F16 and BF16 have no typed array in Node 20: they travel as their raw 16-bit patterns.
const DTYPES: Record<Dtype, { size: number; ctor: Ctor }> = {
  F64: { size: 8, ctor: Float64Array },
  F32: { size: 4, ctor: Float32Array },
  F16: { size: 2, ctor: Uint16Array },
  BF16: { size: 2, ctor: Uint16Array },
  I64: { size: 8, ctor: BigInt64Array },
  U64: { size: 8, ctor: BigUint64Array },
  I32: { size: 4, ctor: Int32Array },
  U32: { size: 4, ctor: Uint32Array },
  I16: { size: 2, ctor: Int16Array },
  U16: { size: 2, ctor: Uint16Array },
  I8: { size: 1, ctor: Int8Array },
  U8: { size: 1, ctor: Uint8Array },
  BOOL: { size: 1, ctor: Uint8Array },
};

/** Largest header the reader accepts (as the reference implementation: 100 MB). */
const MAX_HEADER = 100_000_000;
/** Bytes per read/write call; keeps each call well under the 2 GiB limit of fs.readSync/writeSync. */
const CHUNK = 1 << 30;

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, s);
}

export function dtypeSize(d: Dtype): number {
  return DTYPES[d].size;
}

function assertLittleEndian(): void {
  // Typed arrays use the host byte order; the format is little-endian. Every supported host (x86-64,
  // arm64) is; refuse rather than silently write swapped bytes elsewhere.
  if (os.endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkShape(where: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) {
    off += fs.writeSync(fd, bytes, off, Math.min(CHUNK, bytes.length - off));
  }
}

/**
 * Metadata key holding a SHA-256 of every tensor's bytes and of the rest of the metadata, written by every
 * fairtune file and verified on read: safetensors has no checksum of its own, and a flipped byte in a window
 * or a weight would otherwise load as a plausible, silently wrong value. Files written elsewhere (PyTorch)
 * have no such key and are read unchecked.
 */
export const CHECKSUM_KEY = 'fairtune.sha256';

function sha256(bytes: ArrayBufferView): string {
  return createHash('sha256').update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).digest('hex');
}

/** The metadata as hashed: every key but the checksum, in sorted order. */
function metadataDigest(metadata: Record<string, string>): string {
  const rest = Object.keys(metadata).filter((k) => k !== CHECKSUM_KEY).sort().map((k) => [k, metadata[k]]);
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/**
 * Write tensors and string metadata to `path` atomically (a temporary file in the same folder, then a
 * rename). Tensors are laid out by element size (largest first), then by name, so every tensor starts
 * at a multiple of its element size (the header is padded to 8 bytes).
 */
export function writeSafetensors(path: string, tensors: Record<string, TensorEntry>, metadata: Record<string, string> = {}): void {
  assertLittleEndian();
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata "${k}" must be a string, got ${typeof v}`);
  }
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const where = `writeSafetensors: tensor "${name}"`;
    if (name === '' || name === '__metadata__') throw new Error(`${where}: invalid tensor name`);
    if (!isDtype(t.dtype)) throw new Error(`${where}: unknown dtype ${JSON.stringify(t.dtype)}; known: ${Object.keys(DTYPES).join(', ')}`);
    const shape = checkShape(where, t.shape);
    const want = DTYPES[t.dtype].ctor;
    if (!(t.data instanceof want)) throw new Error(`${where}: dtype ${t.dtype} needs a ${want.name}, got ${t.data?.constructor?.name}`);
    if (t.data.length !== numel(shape)) throw new Error(`${where}: shape [${shape}] has ${numel(shape)} elements but data has ${t.data.length}`);
  }
  names.sort((a, b) => DTYPES[tensors[b].dtype].size - DTYPES[tensors[a].dtype].size || (a < b ? -1 : a > b ? 1 : 0));
  let offset = 0;
  const sums: Record<string, string> = { __metadata__: metadataDigest(metadata) };
  for (const name of names) sums[name] = sha256(tensors[name].data);
  header.__metadata__ = { ...metadata, [CHECKSUM_KEY]: JSON.stringify(sums) };
  for (const name of names) {
    const t = tensors[name];
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(json.length));

  writeAtomically(path, (tmp) => {
    const fd = fs.openSync(tmp, 'w');
    try {
      writeAll(fd, lenBytes);
      writeAll(fd, json);
      for (const name of names) {
        const d = tensors[name].data;
        writeAll(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}

export interface HeaderEntry {
  dtype: Dtype;
  shape: number[];
  /** Byte offsets relative to the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Absolute file offset of the data section (8 + header length). */
  dataStart: number;
  entries: Record<string, HeaderEntry>;
  metadata: Record<string, string>;
}

function readExactly(fd: number, into: Uint8Array, position: number, path: string): void {
  for (let off = 0; off < into.length; ) {
    const n = fs.readSync(fd, into, off, Math.min(CHUNK, into.length - off), position + off);
    if (n === 0) throw new Error(`safetensors: ${path} is truncated (unexpected end of file at byte ${position + off})`);
    off += n;
  }
}

function parseHeader(fd: number, path: string, fileSize: number): SafetensorsHeader {
  const bad = (msg: string): Error => new Error(`safetensors: ${path}: ${msg}`);
  if (fileSize < 8) throw bad(`file is ${fileSize} bytes, too short to hold the 8-byte header length (truncated or not a safetensors file)`);
  const lenBuf = Buffer.alloc(8);
  readExactly(fd, lenBuf, 0, path);
  const len64 = lenBuf.readBigUInt64LE(0);
  if (len64 > BigInt(MAX_HEADER)) throw bad(`header length ${len64} exceeds the ${MAX_HEADER}-byte limit (corrupt or not a safetensors file)`);
  const hlen = Number(len64);
  if (8 + hlen > fileSize) throw bad(`header says ${hlen} bytes but only ${fileSize - 8} follow (file truncated)`);
  const hbuf = Buffer.alloc(hlen);
  readExactly(fd, hbuf, 8, path);
  let raw: unknown;
  try {
    raw = JSON.parse(hbuf.toString('utf8'));
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('header is not a JSON object');
  const entries: Record<string, HeaderEntry> = {};
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('__metadata__ is not an object');
      for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') throw bad(`__metadata__ value "${k}" is not a string`);
      metadata = v as Record<string, string>;
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw bad(`entry "${name}" is not an object`);
    if (!isDtype(e.dtype)) throw bad(`tensor "${name}" has unknown dtype ${JSON.stringify(e.dtype)}`);
    const shape = checkShape(`safetensors: ${path}: tensor "${name}"`, e.shape);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && x >= 0) || off[1] < off[0]) {
      throw bad(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const bytes = numel(shape) * DTYPES[e.dtype].size;
    if (off[1] - off[0] !== bytes) throw bad(`tensor "${name}" ${e.dtype}[${shape}] needs ${bytes} bytes but data_offsets span ${off[1] - off[0]}`);
    entries[name] = { dtype: e.dtype, shape, begin: off[0], end: off[1] };
  }
  // The tensors must tile the data section exactly: no gaps, no overlaps, nothing missing at the end.
  const sorted = Object.entries(entries).sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let pos = 0;
  for (const [name, e] of sorted) {
    if (e.begin !== pos) throw bad(`tensor "${name}" starts at ${e.begin}, expected ${pos} (gap or overlap in the data section)`);
    pos = e.end;
  }
  const dataLen = fileSize - 8 - hlen;
  if (pos > dataLen) throw bad(`tensors need ${pos} bytes of data but the file has ${dataLen} (file truncated)`);
  if (pos < dataLen) throw bad(`${dataLen - pos} bytes after the last tensor are not described by the header (corrupt file)`);
  return { dataStart: 8 + hlen, entries, metadata };
}

/** Read and validate the header only (names, dtypes, shapes, metadata) without loading tensor data. */
/** Throws naming the tensor (or the metadata) whose bytes differ from what was written. */
function verifyChecksums(path: string, metadata: Record<string, string>, tensors: Record<string, TensorEntry>): void {
  const text = metadata[CHECKSUM_KEY];
  if (text === undefined) return;
  let sums: Record<string, unknown>;
  try {
    sums = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`safetensors: ${path}: its checksum record (${CHECKSUM_KEY}) is damaged`);
  }
  if (sums === null || typeof sums !== 'object') throw new Error(`safetensors: ${path}: its checksum record (${CHECKSUM_KEY}) is damaged`);
  if (sums.__metadata__ !== metadataDigest(metadata)) {
    throw new Error(`safetensors: ${path}: the metadata does not match its checksum (the file was changed or damaged)`);
  }
  for (const [name, t] of Object.entries(tensors)) {
    if (sums[name] === undefined) throw new Error(`safetensors: ${path}: tensor "${name}" has no checksum (the file was changed or damaged)`);
    if (sums[name] !== sha256(t.data)) throw new Error(`safetensors: ${path}: tensor "${name}" does not match its checksum (the file was changed or damaged)`);
  }
}

export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = fs.openSync(path, 'r');
  try {
    return parseHeader(fd, path, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Read a safetensors file (all tensors, or only `names`). Every tensor gets its own, properly aligned
 * typed array. Truncated or inconsistent files raise an error naming the file and the problem.
 */
export function readSafetensors(path: string, names?: string[]): SafetensorsFile {
  assertLittleEndian();
  const fd = fs.openSync(path, 'r');
  try {
    const h = parseHeader(fd, path, fs.fstatSync(fd).size);
    const want = names ?? Object.keys(h.entries);
    const tensors: Record<string, TensorEntry> = {};
    for (const name of want) {
      const e = h.entries[name];
      if (!e) throw new Error(`safetensors: ${path} has no tensor "${name}"`);
      const data = new DTYPES[e.dtype].ctor(numel(e.shape));
      readExactly(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), h.dataStart + e.begin, path);
      tensors[name] = { dtype: e.dtype, shape: e.shape, data };
    }
    verifyChecksums(path, h.metadata, tensors);
    const { [CHECKSUM_KEY]: _sums, ...metadata } = h.metadata;
    return { tensors, metadata };
  } finally {
    fs.closeSync(fd);
  }
}
