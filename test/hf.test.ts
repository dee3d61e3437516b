// Hugging Face decoders (src/model/hf.ts), safetensors (src/model/safetensors.ts) and the checkpoints'
// tokenizers (src/model/hf-tokenizer.ts). Parity is against outputs of transformers itself
// (test/fixtures/hf-tiny/*/reference.json, see its README).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '../src/model/backends/backend.ts';
import { generate } from '../src/model/generate.ts';
import { HFConfigError, HFModel, buildHFFromConfig, isHFSpec, loadHF, parseHFConfig, parseModelSpec, readHFConfig } from '../src/model/hf/hf.ts';
import { HFTokenizer } from '../src/model/hf/hf-tokenizer.ts';
import {
  SafetensorsError, WeightStore, bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, readHeader, writeSafetensors,
} from '../src/model/hf/safetensors.ts';

const FIX = path.join(import.meta.dirname, 'fixtures', 'hf-tiny');
const ARCHS = ['llama', 'qwen2', 'phi3'] as const;
const PARAMS = { llama: 151_872, qwen2: 119_360, phi3: 151_872 };

interface Reference {
  input_ids: number[][];
  logits: number[];
  last_hidden: number[];
  greedy_new_tokens: number[][];
}
const refs = Object.fromEntries(
  ARCHS.map((a) => [a, JSON.parse(fs.readFileSync(path.join(FIX, a, 'reference.json'), 'utf8')) as Reference]),
) as Record<(typeof ARCHS)[number], Reference>;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-test-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Whole-sequence and KV-cached logits of a model on the reference ids. */
function forwardBoth(m: HFModel, ids: number[][]): { logits: Float32Array; hidden: Float32Array; stepped: Float32Array } {
  const [B, T] = [ids.length, ids[0]!.length];
  return tf.tidy(() => {
    const x = tf.tensor2d(ids, [B, T], 'int32');
    const h = m.hidden(x);
    const logits = m.head(h).dataSync() as Float32Array;
    // prefill 10 tokens, then feed the rest one at a time: every slot goes through the cache path
    const cache = m.newCache(B, T);
    const parts = [m.step(cache, tf.slice(x, [0, 0], [B, 10]) as tf.Tensor2D)];
    for (let t = 10; t < T; t++) parts.push(m.step(cache, tf.slice(x, [0, t], [B, 1]) as tf.Tensor2D));
    const stepped = tf.concat(parts, 1).dataSync() as Float32Array;
    cache.dispose();
    return { logits, hidden: h.dataSync() as Float32Array, stepped };
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`parity with transformers on ${backend}`, () => {
    beforeAll(async () => {
      expect(await setupBackend(backend)).toBe(backend);
    });

    for (const arch of ARCHS) {
      it(`${arch}: logits, last hidden, cached logits and greedy continuation`, async () => {
        const ref = refs[arch];
        const m = await loadHF(path.join(FIX, arch));
        try {
          const { logits, hidden, stepped } = forwardBoth(m, ref.input_ids);
          const dl = maxAbsDiff(logits, ref.logits);
          const dh = maxAbsDiff(hidden, ref.last_hidden);
          const ds = maxAbsDiff(stepped, ref.logits);
          console.log(`[hf parity] ${backend} ${arch}: max|dlogits| ${dl.toExponential(2)} max|dhidden| ${dh.toExponential(2)} max|dcached| ${ds.toExponential(2)}`);
          expect(dl).toBeLessThan(1e-4);
          expect(dh).toBeLessThan(1e-4);
          expect(ds).toBeLessThan(1e-4);
          const g = await generate(m, ref.input_ids, { maxNewTokens: 16, temperature: 0 });
          expect(g.tokens).toEqual(ref.greedy_new_tokens);
        } finally {
          m.dispose();
        }
      });
    }

    it('left padding and selectRows: a short prompt batched with a long one decodes as it does alone', async () => {
      const m = await loadHF(path.join(FIX, 'qwen2'));
      try {
        const [long, full] = refs.qwen2.input_ids as [number[], number[]];
        const short = full.slice(0, 9);
        const alone = await generate(m, [short], { maxNewTokens: 12, temperature: 0 });
        const batched = await generate(m, [long, short], { maxNewTokens: 12, temperature: 0 });
        expect(batched.tokens[1]).toEqual(alone.tokens[0]);
        expect(batched.tokens[0]).toEqual(refs.qwen2.greedy_new_tokens[0]!.slice(0, 12));

        // a prefilled cache duplicated row-wise continues each copy exactly like the original row
        const ids = tf.tensor2d([long.slice(0, 20), full.slice(0, 20)], [2, 20], 'int32');
        const cache = m.newCache(2, 21);
        tf.dispose(m.step(cache, ids, { last: true }));
        const dup = m.selectRows(cache, [1, 1, 0]);
        const next = tf.tensor2d([[long[20]!], [long[20]!], [long[20]!]], [3, 1], 'int32');
        const out = m.step(dup, next).dataSync();
        const refRow = tf.tidy(() => {
          const l = m.logits(tf.tensor2d([[...full.slice(0, 20), long[20]!]], [1, 21], 'int32'));
          return tf.slice(l, [0, 20, 0], [1, 1, 512]).dataSync();
        });
        const V = 512;
        expect(maxAbsDiff(out.subarray(0, V), refRow)).toBeLessThan(1e-4);
        expect(maxAbsDiff(out.subarray(V, 2 * V), refRow)).toBeLessThan(1e-4);
        expect(maxAbsDiff(out.subarray(2 * V, 3 * V), refRow)).toBeGreaterThan(1e-3); // row 0 had other context
        tf.dispose([ids, next]);
        cache.dispose();
        dup.dispose();
      } finally {
        m.dispose();
      }
    });
  });
}

describe('weights and checkpoints', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('namedWeights hold every parameter once, under HF names (Phi-3 split)', async () => {
    for (const arch of ARCHS) {
      const m = await loadHF(path.join(FIX, arch));
      const w = m.namedWeights();
      let n = 0;
      for (const v of w.values()) n += v.size;
      expect(n).toBe(PARAMS[arch]);
      expect(m.config.arch).toBe(arch);
      expect(w.has('model.layers.1.mlp.down_proj.weight')).toBe(true);
      if (arch === 'phi3') {
        expect(w.has('model.layers.0.self_attn.qkv_proj.weight')).toBe(false);
        expect(w.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([64, 32]); // [in, out]
      }
      if (arch === 'qwen2') expect(w.has('lm_head.weight')).toBe(false); // tied
      m.dispose();
    }
  });

  it('a model written back in HF layout (Phi-3 split) reloads to the same logits', async () => {
    const m = await loadHF(path.join(FIX, 'phi3'));
    const dir = path.join(tmp, 'phi3-split');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(FIX, 'phi3', 'config.json'), path.join(dir, 'config.json'));
    writeSafetensors(
      path.join(dir, 'model.safetensors'),
      [...m.namedWeights().keys()].map((name) => ({ name, ...m.hfLayout(name) })),
    );
    expect(readHeader(path.join(dir, 'model.safetensors')).entries.has('model.layers.0.self_attn.q_proj.weight')).toBe(true);
    const m2 = await loadHF(dir);
    const a = forwardBoth(m, refs.phi3.input_ids).logits;
    const b = forwardBoth(m2, refs.phi3.input_ids).logits;
    expect(maxAbsDiff(a, b)).toBe(0);
    m.dispose();
    m2.dispose();
  });

  it('a shell built from the JSON config and filled through namedWeights is the same model', async () => {
    for (const arch of ['qwen2', 'phi3'] as const) {
      const m = await loadHF(path.join(FIX, arch));
      const shell = buildHFFromConfig(JSON.parse(JSON.stringify(m.config)));
      const src = m.namedWeights();
      for (const [n, v] of shell.namedWeights()) v.assign(src.get(n)!);
      expect(maxAbsDiff(forwardBoth(shell, refs[arch].input_ids).logits, refs[arch].logits)).toBeLessThan(1e-4);
      m.dispose();
      shell.dispose();
    }
    expect(() => buildHFFromConfig({ arch: 'qwen2' })).toThrow(/expected field vocabSize/);
  });

  it('trainable: gradients reach every weight (tied embedding included) and an SGD step lowers the loss', async () => {
    for (const arch of ['qwen2', 'phi3'] as const) {
      const m = await loadHF(path.join(FIX, arch));
      const ids = refs[arch].input_ids;
      const x = tf.tensor2d(ids.map((r) => r.slice(0, -1)), [2, 23], 'int32');
      const y = tf.tensor2d(ids.map((r) => r.slice(1)), [2, 23], 'int32');
      const mask = tf.ones([2, 23]) as tf.Tensor2D;
      const weights = [...m.namedWeights().values()];
      const { value, grads } = tf.variableGrads(() => m.lmLoss(x, y, mask), weights);
      const before = value.dataSync()[0]!;
      let zero = 0;
      for (const [i, w] of weights.entries()) {
        const g = grads[w.name]!;
        expect(g.shape, `grad ${i}`).toEqual(w.shape);
        if (tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]!) === 0) zero++;
        w.assign(tf.tidy(() => tf.sub(w, tf.mul(g, 0.5))));
      }
      expect(zero).toBe(0);
      const after = tf.tidy(() => m.lmLoss(x, y, mask).dataSync()[0]!);
      expect(after).toBeLessThan(before - 1e-3);
      tf.dispose([x, y, mask, value, ...Object.values(grads)]);
      m.dispose();
    }
  });

  it('sharded checkpoints (model.safetensors.index.json) load like the single file', async () => {
    const src = path.join(FIX, 'llama');
    const dir = path.join(tmp, 'llama-sharded');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(src, 'config.json'), path.join(dir, 'config.json'));
    const store = WeightStore.open(src);
    const names = store.names().sort();
    const shards: Record<string, string[]> = { 'model-00001-of-00002.safetensors': [], 'model-00002-of-00002.safetensors': [] };
    names.forEach((n, i) => shards[i < names.length / 2 ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']!.push(n));
    const weightMap: Record<string, string> = {};
    for (const [file, list] of Object.entries(shards)) {
      writeSafetensors(path.join(dir, file), list.map((name) => ({ name, ...store.get(name) })));
      for (const n of list) weightMap[n] = file;
    }
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const a = await loadHF(src);
    const b = await loadHF(dir);
    expect(maxAbsDiff(forwardBoth(a, refs.llama.input_ids).logits, forwardBoth(b, refs.llama.input_ids).logits)).toBe(0);
    a.dispose();
    b.dispose();

    // an index naming a tensor its shard lacks is refused, naming both
    weightMap['model.norm.weight'] = 'model-00001-of-00002.safetensors';
    fs.writeFileSync(path.join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    expect(() => WeightStore.open(dir)).toThrow(/model-00001-of-00002\.safetensors: expected tensor model\.norm\.weight/);
  });
});

describe('bf16 / f16', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('decodes known bit patterns exactly', () => {
    const h = f16ToF32(Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x3555]));
    expect([...h]).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity, -0, Math.fround(0.333251953125)]);
    expect(Number.isNaN(f16ToF32(Uint16Array.from([0x7e00]))[0])).toBe(true);
    const b = bf16ToF32(Uint16Array.from([0x3f80, 0x4049, 0xc2f7, 0x0001, 0x7f80]));
    expect([...b]).toEqual([1, 3.140625, -123.5, 2 ** -133, Infinity]);
  });

  it('encodes with round-to-nearest-even, overflow and subnormals', () => {
    const f = (xs: number[]) => [...f32ToF16(Float32Array.from(xs))];
    expect(f([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65519, 65520, 2 ** -25, 1.5 * 2 ** -25, 2 ** -26, -0, 2 ** -14 - 2 ** -25])).toEqual([
      0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x0000, 0x0001, 0x0000, 0x8000, 0x0400,
    ]);
    const g = (xs: number[]) => [...f32ToBf16(Float32Array.from(xs))];
    expect(g([1 + 2 ** -8, 1 + 3 * 2 ** -8, -123.5, 3.4e38])).toEqual([0x3f80, 0x3f82, 0xc2f7, 0x7f80]);
  });

  for (const dtype of ['BF16', 'F16'] as const) {
    it(`a ${dtype} checkpoint loads as the rounded float32 weights`, async () => {
      const src = path.join(FIX, 'qwen2');
      const dir = path.join(tmp, `qwen2-${dtype}`);
      fs.mkdirSync(dir);
      fs.copyFileSync(path.join(src, 'config.json'), path.join(dir, 'config.json'));
      const store = WeightStore.open(src);
      writeSafetensors(path.join(dir, 'model.safetensors'), store.names().map((name) => ({ name, ...store.get(name), dtype })));
      const low = WeightStore.open(dir);
      let worstAll = 0;
      // round-to-nearest is within half an ulp: 2^-8 relative for bf16 (8 significant bits), 2^-11 for
      // f16 (11 bits), plus half the smallest f16 subnormal for tiny weights; truncation would not be
      const relTol = dtype === 'BF16' ? 2 ** -8 : 2 ** -11;
      const absTol = dtype === 'BF16' ? 0 : 2 ** -25;
      for (const name of store.names()) {
        expect(low.entry(name).dtype).toBe(dtype);
        const a = store.get(name).data;
        const b = low.get(name).data;
        const ub = new Uint32Array(b.buffer);
        let worst = 0; // error over tolerance, worst case
        let lowBits = 0;
        for (let i = 0; i < a.length; i++) {
          if (a[i] !== b[i]) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(a[i]!) * relTol, absTol));
          // the value read back is representable: bf16 leaves the low 16 bits zero, f16 the low 13
          lowBits |= ub[i]! & (dtype === 'BF16' ? 0xffff : 0x1fff);
        }
        expect(worst, name).toBeLessThanOrEqual(1);
        expect(lowBits, name).toBe(0);
        worstAll = Math.max(worstAll, worst);
      }
      expect(worstAll).toBeGreaterThan(0.5); // some weight sits near a rounding midpoint: the bound is tight
      const m = await loadHF(dir);
      const d = maxAbsDiff(forwardBoth(m, refs.qwen2.input_ids).logits, refs.qwen2.logits);
      expect(d).toBeGreaterThan(0); // really rounded
      expect(d).toBeLessThan(dtype === 'BF16' ? 5e-2 : 5e-3);
      m.dispose();
    });
  }
});

describe('clear errors', () => {
  function writeRaw(name: string, header: string | object, dataBytes: number, lenOverride?: bigint): string {
    const file = path.join(tmp, name);
    const hb = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(lenOverride ?? BigInt(hb.length));
    fs.writeFileSync(file, Buffer.concat([len, hb, Buffer.alloc(dataBytes)]));
    return file;
  }

  it('malformed safetensors headers name the file and what was expected', () => {
    const short = path.join(tmp, 'short.safetensors');
    fs.writeFileSync(short, Buffer.from([1, 2, 3]));
    expect(() => readHeader(short)).toThrow(SafetensorsError);
    expect(() => readHeader(short)).toThrow(`${short}: expected at least 8 bytes`);
    const cases: [string, string | object, number, RegExp, bigint?][] = [
      ['huge-len', '{}', 0, /expected header length <= 2 bytes, got 1000000/, 1_000_000n],
      ['bad-json', '{"a": ', 0, /expected a JSON header of 6 bytes/],
      ['array', '[]', 0, /expected the header to be a JSON object/],
      ['dtype', { w: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, 1, /tensor w: unknown dtype F8/],
      ['shape', { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4, /tensor w: expected shape to be an array of non-negative integers/],
      ['offsets', { w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8, /tensor w: expected data_offsets \[begin, end\]/],
      ['past-end', { w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8, /tensor w: data_offsets end 16 is past the data section \(8 bytes/],
      ['size', { w: { dtype: 'BF16', shape: [3], data_offsets: [0, 4] } }, 4, /tensor w: expected 6 bytes for BF16\[3\], data_offsets span 4/],
      ['overlap', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8, /tensors a and b overlap/],
    ];
    for (const [name, header, bytes, re, len] of cases) {
      const file = writeRaw(`${name}.safetensors`, header, bytes, len);
      expect(() => readHeader(file), name).toThrow(re);
      expect(() => readHeader(file), name).toThrow(file);
    }
    // integer tensors are valid safetensors, but not weights we can use
    const ints = writeRaw('ints.safetensors', { w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8);
    expect(readHeader(ints).entries.get('w')!.shape).toEqual([1]);
    const dir = path.join(tmp, 'ints');
    fs.mkdirSync(dir);
    fs.copyFileSync(ints, path.join(dir, 'model.safetensors'));
    expect(() => WeightStore.open(dir).get('w')).toThrow(/tensor w: expected dtype F32, F16 or BF16, got I64/);
    expect(() => WeightStore.open(dir).get('nope')).toThrow(`${dir}: expected a tensor named nope`);
    expect(() => WeightStore.open(tmp + '/missing')).toThrow(/expected model\.safetensors or model\.safetensors\.index\.json/);
  });

  it('a checkpoint with a wrong shape or a missing tensor names file and tensor', async () => {
    await setupBackend('cpu');
    const dir = path.join(tmp, 'llama-bad');
    fs.mkdirSync(dir);
    const cfg = JSON.parse(fs.readFileSync(path.join(FIX, 'llama', 'config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 128 }));
    fs.copyFileSync(path.join(FIX, 'llama', 'model.safetensors'), path.join(dir, 'model.safetensors'));
    await expect(loadHF(dir)).rejects.toThrow(/model\.safetensors: tensor model\.layers\.0\.mlp\.gate_proj\.weight: expected shape \[128,64\], got \[160,64\]/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 3 }));
    await expect(loadHF(dir)).rejects.toThrow(/expected a tensor named model\.layers\.2\.input_layernorm\.weight/);
  });

  it('configs: unsupported architecture / rope type / activation are refused, rope settings parsed', () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(FIX, 'phi3', 'config.json'), 'utf8'));
    expect(() => parseHFConfig({ ...cfg, architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }, 'x/config.json')).toThrow(
      /^x\/config\.json: expected architectures\[0\] in LlamaForCausalLM\|Qwen2ForCausalLM\|Phi3ForCausalLM/,
    );
    expect(() => parseHFConfig({ ...cfg, rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'c')).toThrow(/rope type "yarn" is not supported/);
    expect(() => parseHFConfig({ ...cfg, hidden_act: 'gelu' }, 'c')).toThrow(/expected hidden_act "silu"/);
    expect(() => parseHFConfig({ ...cfg, num_key_value_heads: 3 }, 'c')).toThrow(/divisible by num_key_value_heads/);
    // pre-5.x configs keep rope_theta at top level; partial rotary shrinks the rotated dims
    const old = parseHFConfig({ ...cfg, rope_parameters: undefined, rope_theta: 500000, partial_rotary_factor: 0.5 }, 'c');
    expect([old.ropeTheta, old.rotaryDim, old.headDim]).toEqual([500000, 8, 16]);
    const c = readHFConfig(path.join(FIX, 'phi3'));
    expect(c).toMatchObject({ arch: 'phi3', nKVHeads: 2, headDim: 16, rotaryDim: 16, tieWordEmbeddings: false, eosTokenIds: [2] });
  });

  it('model specs', () => {
    expect(isHFSpec('hf:models/qwen')).toBe(true);
    expect(isHFSpec('hf:')).toBe(false);
    expect(isHFSpec('runs/demo/policy')).toBe(false);
    expect(parseModelSpec('hf:/abs/dir')).toEqual({ kind: 'hf', folder: '/abs/dir' });
    expect(parseModelSpec('runs/x')).toEqual({ kind: 'checkpoint', dir: 'runs/x' });
    expect(() => parseModelSpec('hf:')).toThrow(HFConfigError);
  });
});

describe('rotary embedding', () => {
  it('HF rotate_half convention; partial rotary leaves the pass-through dims alone', async () => {
    await setupBackend('cpu');
    const base = readHFConfig(path.join(FIX, 'phi3'));
    for (const rotaryDim of [16, 8]) {
      const m = new HFModel({ ...base, nLayers: 1, vocabSize: 8, rotaryDim }, undefined, 3);
      const hd = 16;
      const positions = [0, 1, 7, 200];
      const x = Float32Array.from({ length: 2 * positions.length * hd }, (_, i) => Math.sin(i * 1.7) + 0.1 * i);
      const got = tf.tidy(() => m.rotary(tf.tensor4d(x, [1, 2, positions.length, hd]), positions).dataSync());
      // reference, written out from HF's apply_rotary_pos_emb (phi3: rotate the first rotary dims only)
      const half = rotaryDim / 2;
      for (let h = 0; h < 2; h++)
        positions.forEach((p, t) => {
          const row = x.subarray((h * positions.length + t) * hd, (h * positions.length + t + 1) * hd);
          for (let d = 0; d < hd; d++) {
            let want = row[d]!;
            if (d < rotaryDim) {
              const j = d % half;
              const ang = p / Math.pow(10000, (2 * j) / rotaryDim);
              const rot = d < half ? -row[d + half]! : row[d - half]!;
              want = row[d]! * Math.cos(ang) + rot * Math.sin(ang);
            }
            expect(Math.abs(got[(h * positions.length + t) * hd + d]! - want), `rotaryDim ${rotaryDim} h${h} p${p} d${d}`).toBeLessThan(2e-4);
          }
        });
      m.dispose();
    }
  });
});

describe('tokenizers', () => {
  /** GPT-2 byte → printable char table, as byte-level BPE files spell bytes. */
  function byteChars(): string[] {
    const keep = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    let n = 0;
    return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + n++));
  }

  it('tokenizer.json: Qwen2-style byte-level BPE with added tokens', async () => {
    const vocab: Record<string, number> = {};
    byteChars().forEach((c, i) => (vocab[c] = i));
    Object.assign(vocab, { th: 256, the: 257, 'Ġthe': 258 });
    const bl = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
    const tokenizerJson = {
      version: '1.0', truncation: null, padding: null,
      added_tokens: ['<|endoftext|>', '<|im_end|>'].map((content, i) => ({
        id: 259 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
      })),
      normalizer: { type: 'NFC' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          {
            type: 'Split', behavior: 'Isolated', invert: false,
            pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
          },
          bl,
        ],
      },
      post_processor: bl,
      decoder: bl,
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
        byte_fallback: false, ignore_merges: false, vocab, merges: [['t', 'h'], ['th', 'e'], ['Ġ', 'the']],
      },
    };
    const dir = path.join(tmp, 'tok-json');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'tokenizer.json');
    fs.writeFileSync(file, JSON.stringify(tokenizerJson));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ eos_token: '<|im_end|>', bos_token: null }));
    const t = await HFTokenizer.load(dir);
    expect(t.kind).toBe('tokenizer.json');
    expect(t.encode('the the')).toEqual([257, 258]); // merges apply, Ġ marks the space
    expect(t.encode('hello')).toEqual([104, 101, 108, 108, 111]); // no merge: raw bytes
    expect(t.encode('12')).toEqual([49, 50]); // Qwen's split: one digit per pre-token
    expect(t.encode('the<|im_end|>')).toEqual([257, 260]); // added token is one id, no BOS/EOS added
    expect(t.encode('é')).toEqual([195, 169]); // UTF-8 bytes
    for (const s of ['héllo wörld 🙂\n  x = 3*4;\n', ' the  the\t\n\nend<|endoftext|>', '']) expect(t.decode(t.encode(s))).toBe(s);
    expect(t.vocabSize).toBe(261);
    expect([t.pieceId('Ġthe'), t.pieceId('<|im_end|>'), t.pieceId('zzz')]).toEqual([258, 260, -1]);
    expect([t.bosId, t.eosId]).toEqual([null, 260]);
    expect(t.sha256).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    expect(() => t.decode([261])).toThrow(/id 261 outside \[0, 261\)/);
  });

  it('tokenizer.model: SentencePiece BPE with byte fallback (Llama / Phi-3 style)', async () => {
    const file = path.join(FIX, 'spm', 'tokenizer.model');
    const dir = path.join(tmp, 'tok-spm');
    fs.mkdirSync(dir);
    fs.copyFileSync(file, path.join(dir, 'tokenizer.model'));
    const t = await HFTokenizer.load(dir);
    expect(t.kind).toBe('sentencepiece');
    expect(t.vocabSize).toBe(600);
    expect([t.pieceId('<unk>'), t.bosId, t.eosId, t.pieceId('<|end|>'), t.pieceId('<0x41>'), t.pieceId('nope')]).toEqual([0, 1, 2, 3, 69, -1]);
    const ids = t.encode('sold 48 clips<|end|>');
    expect(ids[0]).not.toBe(t.bosId); // no BOS added
    expect(ids.filter((i) => i === 3)).toHaveLength(1); // user-defined symbol is one id
    // split digits: "4" and "8" are separate pieces
    expect(ids).toContain(t.pieceId('4'));
    expect(ids).toContain(t.pieceId('8'));
    const emoji = t.encode('🙂');
    expect(emoji.slice(-4)).toEqual([0xf0, 0x9f, 0x99, 0x82].map((b) => t.pieceId(`<0x${b.toString(16).toUpperCase()}>`)));
    for (const s of ['Natalia sold 48 clips in April.', 'héllo 🙂  two  spaces\nnext']) expect(t.decode(t.encode(s))).toBe(s);
    expect(t.sha256).toBe(createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
    await expect(HFTokenizer.load(tmp + '/nothing-here')).rejects.toThrow(/expected a SentencePiece tokenizer\.model/);
    const empty = path.join(tmp, 'empty-dir');
    fs.mkdirSync(empty);
    await expect(HFTokenizer.load(empty)).rejects.toThrow(`${empty}: expected tokenizer.json or tokenizer.model`);
  });
});
