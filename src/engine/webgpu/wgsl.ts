// The WGSL template mechanism. A kernels/wgsl/<family>.wgsl file holds shared code followed by sections
// `//! kernel <entry>`, one per entry point; `//! include <file>` pulls in another file's shared code, and
// `${NAME}` is replaced by a compile-time constant (workgroup sizes, head dim, tile sizes). The generated
// header declares, for one call, the uniform struct P (every scalar parameter plus the element offset
// `off_<t>` of every tensor), one storage binding per DISTINCT buffer, and accessors ld_<t>(i) / st_<t>(i, v)
// that add the tensor's offset. Kernel bodies only use the accessors, so two tensor arguments that share a
// buffer (in-place relu, views of one allocation) map to the same binding and never violate WebGPU's
// rule against binding one buffer twice for writing.
import * as fs from 'fs';
import * as path from 'path';

export type ParamType = 'u32' | 'f32';

export interface KernelDef {
  /** File under kernels/wgsl. */
  file: string;
  /** Section and entry-point name. */
  entry: string;
  /** Tensor arguments in order; `write` ones get a store accessor. */
  tensors: readonly { name: string; write: boolean }[];
  /** Scalar uniforms (after the tensor offsets). */
  params: readonly { name: string; type: ParamType }[];
  /** Default values of the `${NAME}` constants (a call may override or add). */
  consts?: Readonly<Record<string, number | string>>;
}

/** The package root: the nearest ancestor holding package.json (src/ and dist/src/ both work). */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(__dirname, '..', '..', '..');
    dir = up;
  }
}

export const WGSL_DIR = path.join(packageRoot(), 'kernels', 'wgsl');

interface ParsedFile {
  common: string;
  sections: Map<string, string>;
}

const files = new Map<string, ParsedFile>();

function parseFile(file: string, stack: readonly string[] = []): ParsedFile {
  const hit = files.get(file);
  if (hit) return hit;
  if (stack.includes(file)) throw new Error(`wgsl: include cycle ${[...stack, file].join(' → ')}`);
  const full = path.join(WGSL_DIR, file);
  if (!fs.existsSync(full)) throw new Error(`wgsl: kernel file ${full} not found`);
  const common: string[] = [];
  const bodies = new Map<string, string[]>();
  let current = common;
  for (const line of fs.readFileSync(full, 'utf8').split('\n')) {
    const inc = /^\/\/! include (\S+)\s*$/.exec(line);
    const sec = /^\/\/! kernel (\w+)\s*$/.exec(line);
    if (inc) current.push(parseFile(inc[1], [...stack, file]).common);
    else if (sec) {
      if (bodies.has(sec[1])) throw new Error(`wgsl: ${file} defines kernel ${sec[1]} twice`);
      current = [];
      bodies.set(sec[1], current);
    } else current.push(line);
  }
  const sections = new Map([...bodies].map(([k, v]) => [k, v.join('\n')] as [string, string]));
  const parsed = { common: common.join('\n'), sections };
  files.set(file, parsed);
  return parsed;
}

function substitute(src: string, consts: Readonly<Record<string, number | string>>, where: string): string {
  return src.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const v = consts[name];
    if (v === undefined) throw new Error(`wgsl: ${where} uses \${${name}} but no value was given`);
    return String(v);
  });
}

/** How the tensors of one call map onto bindings: binding index per tensor (-1: absent) and access per binding. */
export interface BindingPlan {
  bindingOf: readonly number[];
  /** One letter per binding: 'r' or 'w'. */
  layout: string;
}

/** The complete WGSL source of one kernel for one binding plan and set of constants. */
export function kernelSource(def: KernelDef, plan: BindingPlan, consts: Readonly<Record<string, number | string>>): string {
  const parsed = parseFile(def.file);
  const body = parsed.sections.get(def.entry);
  if (body === undefined) throw new Error(`wgsl: ${def.file} has no section '//! kernel ${def.entry}'`);
  const fields = [
    ...def.tensors.map((t) => `off_${t.name}: u32`),
    ...def.params.map((p) => `${p.name}: ${p.type}`),
  ];
  const header: string[] = [`struct Params {\n  ${fields.join(',\n  ')},\n}`, '@group(1) @binding(0) var<uniform> P: Params;'];
  [...plan.layout].forEach((acc, b) => {
    header.push(`@group(0) @binding(${b}) var<storage, ${acc === 'w' ? 'read_write' : 'read'}> buf${b}: array<f32>;`);
  });
  def.tensors.forEach((t, i) => {
    const b = plan.bindingOf[i];
    if (b < 0) {
      header.push(`const HAS_${t.name}: bool = false;`);
      header.push(`fn ld_${t.name}(i: u32) -> f32 { return 0.0; }`);
      if (t.write) header.push(`fn st_${t.name}(i: u32, v: f32) {}`);
    } else {
      header.push(`const HAS_${t.name}: bool = true;`);
      header.push(`fn ld_${t.name}(i: u32) -> f32 { return buf${b}[P.off_${t.name} + i]; }`);
      if (t.write) header.push(`fn st_${t.name}(i: u32, v: f32) { buf${b}[P.off_${t.name} + i] = v; }`);
    }
  });
  const where = `${def.file}#${def.entry}`;
  return `// ${where} (generated header)\n${header.join('\n')}\n\n${substitute(parsed.common, consts, where)}\n${substitute(body, consts, where)}\n`;
}

/** Packs the uniform struct: tensor offsets first, then the params, 4 bytes each, padded to 16. */
export function packUniforms(def: KernelDef, offsets: readonly number[], params: Readonly<Record<string, number>>): Uint8Array {
  const n = def.tensors.length + def.params.length;
  const bytes = new Uint8Array(Math.max(16, Math.ceil((n * 4) / 16) * 16));
  const view = new DataView(bytes.buffer);
  offsets.forEach((o, i) => view.setUint32(i * 4, o, true));
  def.params.forEach((p, j) => {
    const v = params[p.name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`webgpu: ${def.entry} parameter ${p.name} = ${String(v)} is not a finite number`);
    const at = (def.tensors.length + j) * 4;
    if (p.type === 'u32') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`webgpu: ${def.entry} parameter ${p.name} = ${v} is not a u32`);
      view.setUint32(at, v, true);
    } else view.setFloat32(at, v, true);
  });
  return bytes;
}
