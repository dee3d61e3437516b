// safetensors reader/writer (https://github.com/huggingface/safetensors format):
//   8 bytes little-endian u64 N | N bytes JSON header | raw little-endian tensor data.
// Header: {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}};
// offsets are relative to the start of the data section. We read F32/F16/BF16 and hand back
// float32, reading each tensor on demand so a 1 GB bf16 file never sits in memory twice.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type STDtype = 'F32' | 'F16' | 'BF16';
const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const FLOAT: ReadonlySet<string> = new Set(['F32', 'F16', 'BF16']);

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

export interface TensorEntry {
  name: string;
  dtype: STDtype;
  shape: number[];
  /** absolute byte offsets in the file */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  dataStart: number;
}

const MAX_HEADER = 100 * 1024 * 1024; // the reference implementation's limit

/** Parse and validate the header of one .safetensors file (reads only the header bytes). */
export function readHeader(file: string): SafetensorsHeader {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const fail = (what: string): never => {
      throw new SafetensorsError(`${file}: ${what}`);
    };
    if (size < 8) fail(`expected at least 8 bytes (header length), file has ${size}`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(Math.min(MAX_HEADER, size - 8))) fail(`expected header length <= ${Math.min(MAX_HEADER, size - 8)} bytes, got ${n}`);
    const hb = Buffer.alloc(Number(n));
    fs.readSync(fd, hb, 0, hb.length, 8);
    let json: unknown;
    try {
      json = JSON.parse(hb.toString('utf8'));
    } catch (e) {
      fail(`expected a JSON header of ${n} bytes: ${(e as Error).message}`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) fail('expected the header to be a JSON object');
    const dataStart = 8 + Number(n);
    const dataLen = size - dataStart;
    const entries = new Map<string, TensorEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (v ?? {}) as Record<string, string>;
        continue;
      }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (!e || typeof e !== 'object') fail(`tensor ${name}: expected {dtype, shape, data_offsets}`);
      const dtype = String(e.dtype);
      if (!(dtype in BYTES)) fail(`tensor ${name}: unknown dtype ${dtype}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
        fail(`tensor ${name}: expected shape to be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1])
        fail(`tensor ${name}: expected data_offsets [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`);
      const [b, en] = off as [number, number];
      if (en > dataLen) fail(`tensor ${name}: data_offsets end ${en} is past the data section (${dataLen} bytes; file truncated?)`);
      const shape = e.shape as number[];
      const numel = shape.reduce((a, d) => a * d, 1);
      if (en - b !== numel * BYTES[dtype]!)
        fail(`tensor ${name}: expected ${numel * BYTES[dtype]!} bytes for ${dtype}${JSON.stringify(shape)}, data_offsets span ${en - b}`);
      entries.set(name, { name, dtype: dtype as STDtype, shape, begin: dataStart + b, end: dataStart + en });
    }
    // Overlapping tensors would silently alias weights; the format forbids them.
    const sorted = [...entries.values()].sort((a, c) => a.begin - c.begin);
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]!.begin < sorted[i - 1]!.end) fail(`tensors ${sorted[i - 1]!.name} and ${sorted[i]!.name} overlap`);
    return { file, entries, metadata, dataStart };
  } finally {
    fs.closeSync(fd);
  }
}

/** bf16 bits → float32 (exact: bf16 is the top half of a float32). */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const u = new Uint32Array(src.length);
  for (let i = 0; i < src.length; i++) u[i] = src[i]! << 16;
  return new Float32Array(u.buffer);
}

// f16 → f32 through a 64k lookup table: exact, and fast enough for ~1e9 weights.
let F16_TABLE: Float32Array | null = null;
function f16Table(): Float32Array {
  if (F16_TABLE) return F16_TABLE;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24; // subnormal (and ±0)
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return (F16_TABLE = t);
}
export function f16ToF32(src: Uint16Array): Float32Array {
  const t = f16Table();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]!]!;
  return out;
}

/** float32 → bf16 bits, round to nearest even (what torch's .to(bfloat16) does); NaN stays NaN. */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = u[i]!;
    if ((x & 0x7fffffff) > 0x7f800000) out[i] = (x >>> 16) | 0x40;
    else out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 → IEEE half bits, round to nearest even, overflow → ±Inf, tiny → subnormal/±0. */
export function f32ToF16(src: Float32Array): Uint16Array {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = u[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let man = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (man ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      man |= 0x800000; // implicit leading one, then shift into subnormal range
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = man & ((1 << shift) - 1);
      let m = man >>> shift;
      if (rest > half || (rest === half && m & 1)) m++;
      out[i] = sign | m; // m may carry into the exponent bit: that is the correct smallest normal
      continue;
    }
    let m = man >>> 13;
    const rest = man & 0x1fff;
    let h = (e << 10) | m;
    if (rest > 0x1000 || (rest === 0x1000 && m & 1)) h++; // carry may roll into the exponent / to Inf: correct
    out[i] = sign | h;
  }
  return out;
}

/** Read one tensor as float32. */
export function readTensor(h: SafetensorsHeader, name: string, fd?: number): Float32Array {
  const e = h.entries.get(name);
  if (!e) throw new SafetensorsError(`${h.file}: expected a tensor named ${name}`);
  if (!FLOAT.has(e.dtype)) throw new SafetensorsError(`${h.file}: tensor ${name}: expected dtype F32, F16 or BF16, got ${e.dtype}`);
  const own = fd === undefined;
  const f = own ? fs.openSync(h.file, 'r') : fd;
  try {
    const bytes = e.end - e.begin;
    // Fresh, aligned ArrayBuffer so the typed views below are legal.
    const buf = new Uint8Array(new ArrayBuffer(bytes));
    let got = 0;
    while (got < bytes) {
      const n = fs.readSync(f, buf, got, Math.min(bytes - got, 1 << 30), e.begin + got);
      if (n <= 0) throw new SafetensorsError(`${h.file}: tensor ${name}: unexpected end of file`);
      got += n;
    }
    if (e.dtype === 'F32') return new Float32Array(buf.buffer);
    const u16 = new Uint16Array(buf.buffer);
    return e.dtype === 'BF16' ? bf16ToF32(u16) : f16ToF32(u16);
  } finally {
    if (own) fs.closeSync(f);
  }
}

export interface LoadedTensor {
  shape: number[];
  dtype: STDtype;
  data: Float32Array;
}

/**
 * A model folder's weights: `model.safetensors`, or the shards listed by
 * `model.safetensors.index.json` ({weight_map: {tensor: shard file}}).
 */
export class WeightStore {
  private constructor(
    readonly folder: string,
    private readonly headers: Map<string, SafetensorsHeader>, // tensor name → header of its file
  ) {}

  static open(folder: string): WeightStore {
    const single = path.join(folder, 'model.safetensors');
    const index = path.join(folder, 'model.safetensors.index.json');
    const byName = new Map<string, SafetensorsHeader>();
    if (fs.existsSync(index)) {
      let map: Record<string, string>;
      try {
        map = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
      } catch (e) {
        throw new SafetensorsError(`${index}: expected JSON with a weight_map object: ${(e as Error).message}`);
      }
      if (!map || typeof map !== 'object') throw new SafetensorsError(`${index}: expected a weight_map object`);
      const shards = new Map<string, SafetensorsHeader>();
      for (const [name, shard] of Object.entries(map)) {
        if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\'))
          throw new SafetensorsError(`${index}: weight_map[${name}]: expected a shard file name in the same folder`);
        let h = shards.get(shard);
        if (!h) shards.set(shard, (h = readHeader(path.join(folder, shard))));
        if (!h.entries.has(name)) throw new SafetensorsError(`${h.file}: expected tensor ${name} (listed in ${index})`);
        byName.set(name, h);
      }
    } else if (fs.existsSync(single)) {
      const h = readHeader(single);
      for (const name of h.entries.keys()) byName.set(name, h);
    } else {
      throw new SafetensorsError(`${folder}: expected model.safetensors or model.safetensors.index.json`);
    }
    return new WeightStore(folder, byName);
  }

  names(): string[] {
    return [...this.headers.keys()];
  }
  has(name: string): boolean {
    return this.headers.has(name);
  }
  entry(name: string): TensorEntry {
    const h = this.headers.get(name);
    if (!h) throw new SafetensorsError(`${this.folder}: expected a tensor named ${name}`);
    return h.entries.get(name)!;
  }
  /** Read a tensor as float32 and check its shape when `expect` is given. */
  get(name: string, expect?: number[]): LoadedTensor {
    const h = this.headers.get(name);
    if (!h) throw new SafetensorsError(`${this.folder}: expected a tensor named ${name}`);
    const e = h.entries.get(name)!;
    if (expect && (expect.length !== e.shape.length || expect.some((d, i) => d !== e.shape[i])))
      throw new SafetensorsError(`${h.file}: tensor ${name}: expected shape [${expect}], got [${e.shape}]`);
    return { shape: e.shape, dtype: e.dtype, data: readTensor(h, name) };
  }
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
  dtype?: STDtype; // default F32
}

/** Write a .safetensors file (tensors stored in the given dtype; data sorted by name like torch). */
export function writeSafetensors(file: string, tensors: TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let off = 0;
  for (const t of [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (numel !== t.data.length) throw new SafetensorsError(`${file}: tensor ${t.name}: shape [${t.shape}] needs ${numel} values, got ${t.data.length}`);
    const dtype = t.dtype ?? 'F32';
    const raw =
      dtype === 'F32' ? t.data : dtype === 'BF16' ? f32ToBf16(t.data) : f32ToF16(t.data);
    const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [off, off + bytes.length] };
    blobs.push(bytes);
    off += bytes.length;
  }
  const raw = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad with spaces so the data section is 8-byte aligned, as the reference writer does.
  const hb = Buffer.concat([raw, Buffer.alloc((8 - (raw.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, hb);
    for (const b of blobs) fs.writeSync(fd, b);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
