// Tokenizers of pretrained Hugging Face checkpoints, with the surface of our Tokenizer (tokenizer.ts):
// encode (never adds BOS/EOS), decode, vocabSize, pieceId (-1 when absent), sha256.
//
// A folder's `tokenizer.json` wins when present: it is what transformers itself uses and it carries
// the added/special tokens (Phi-3's <|end|>, Qwen2's <|im_end|>) that a bare `tokenizer.model` lacks.
// It runs on @huggingface/tokenizers (pure JS, no native code). Folders with only a SentencePiece
// `tokenizer.model` (older Llama exports) use the same wasm sentencepiece as our own tokenizer.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer as JsonTokenizer } from '@huggingface/tokenizers';
import { SentencePieceProcessor } from '@sctg/sentencepiece-js';
import { readModelPieces } from '../tokenizer.ts';

export class HFTokenizerError extends Error {
  override name = 'HFTokenizerError';
}

interface Backend {
  encode(text: string): number[];
  decode(ids: number[]): string;
}

export class HFTokenizer {
  /** Use HFTokenizer.load. */
  constructor(
    private readonly impl: { encode(text: string): number[]; decode(ids: number[]): string },
    private readonly ids: Map<string, number>,
    /** one past the largest id the tokenizer can produce (added tokens included) */
    readonly vocabSize: number,
    /** sha256 (hex) of the tokenizer file: checkpoints record it to refuse a mismatched tokenizer */
    readonly sha256: string,
    /** the file the tokenizer was read from */
    readonly file: string,
    readonly kind: 'tokenizer.json' | 'sentencepiece',
    readonly bosId: number | null,
    readonly eosId: number | null,
  ) {}

  /**
   * Load from a Hugging Face model folder (tokenizer.json [+ tokenizer_config.json], else
   * tokenizer.model), or from a path to either file.
   */
  static async load(folderOrFile: string): Promise<HFTokenizer> {
    let json: string | null = null;
    let spm: string | null = null;
    if (fs.existsSync(folderOrFile) && fs.statSync(folderOrFile).isDirectory()) {
      const j = path.join(folderOrFile, 'tokenizer.json');
      const m = path.join(folderOrFile, 'tokenizer.model');
      if (fs.existsSync(j)) json = j;
      else if (fs.existsSync(m)) spm = m;
      else throw new HFTokenizerError(`${folderOrFile}: expected tokenizer.json or tokenizer.model`);
    } else if (folderOrFile.endsWith('.json')) json = folderOrFile;
    else spm = folderOrFile;
    return json ? loadJson(json) : loadSpm(spm!);
  }

  /** Ids of a text; no BOS/EOS or other template tokens are added. */
  encode(text: string): number[] {
    if (text === '') return [];
    return this.impl.encode(text);
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    for (const id of ids)
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`${this.file}: id ${id} outside [0, ${this.vocabSize})`);
    return this.impl.decode([...ids]);
  }

  /** Id of a piece (vocabulary entry or added token, in the tokenizer's own spelling), or -1. */
  pieceId(piece: string): number {
    return this.ids.get(piece) ?? -1;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function loadJson(file: string): Promise<HFTokenizer> {
  const bytes = fs.readFileSync(file);
  let tj: {
    model?: { type?: string; vocab?: Record<string, number> | [string, number][] };
    added_tokens?: { id: number; content: string; special?: boolean }[];
  };
  try {
    tj = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new HFTokenizerError(`${file}: expected JSON: ${(e as Error).message}`);
  }
  if (!tj || typeof tj !== 'object' || !tj.model || typeof tj.model !== 'object')
    throw new HFTokenizerError(`${file}: expected a tokenizer.json with a "model" object`);
  const cfgFile = path.join(path.dirname(file), 'tokenizer_config.json');
  let cfg: Record<string, unknown> = {};
  if (fs.existsSync(cfgFile)) {
    try {
      cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new HFTokenizerError(`${cfgFile}: expected JSON: ${(e as Error).message}`);
    }
  }
  let tok: JsonTokenizer;
  try {
    tok = new JsonTokenizer(tj, cfg);
  } catch (e) {
    throw new HFTokenizerError(`${file}: unsupported tokenizer: ${(e as Error).message}`);
  }
  const ids = new Map<string, number>();
  // Unigram models list [piece, score] pairs, BPE/WordPiece a {piece: id} object
  const vocab = tj.model.vocab;
  if (Array.isArray(vocab)) vocab.forEach(([p], i) => ids.set(p, i));
  else if (vocab) for (const [p, i] of Object.entries(vocab)) ids.set(p, i);
  for (const a of tj.added_tokens ?? []) ids.set(a.content, a.id);
  let max = -1;
  for (const i of ids.values()) max = Math.max(max, i);
  if (max < 0) throw new HFTokenizerError(`${file}: expected a non-empty vocabulary`);
  const special = (key: string): number | null => {
    const v = cfg[key];
    const s = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { content?: string }).content : undefined;
    return s !== undefined && ids.has(s) ? ids.get(s)! : null;
  };
  const impl: Backend = {
    encode: (text) => tok.encode(text, { add_special_tokens: false }).ids,
    // keep special tokens: a decoded step must show the markers and end tokens it contains
    decode: (list) => tok.decode(list, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
  };
  return new HFTokenizer(impl, ids, max + 1, sha256(bytes), file, 'tokenizer.json', special('bos_token'), special('eos_token'));
}

async function loadSpm(file: string): Promise<HFTokenizer> {
  if (!fs.existsSync(file)) throw new HFTokenizerError(`${file}: expected a SentencePiece tokenizer.model`);
  const bytes = fs.readFileSync(file);
  let pieces: { piece: string }[];
  try {
    pieces = readModelPieces(bytes);
  } catch (e) {
    throw new HFTokenizerError(`${file}: expected a SentencePiece model: ${(e as Error).message}`);
  }
  if (pieces.length === 0) throw new HFTokenizerError(`${file}: expected a SentencePiece model with pieces`);
  const spp = new SentencePieceProcessor();
  await spp.load(file);
  const ids = new Map<string, number>();
  pieces.forEach((p, i) => {
    if (!ids.has(p.piece)) ids.set(p.piece, i);
  });
  const impl: Backend = {
    encode: (text) => spp.encodeIds(text),
    decode: (list) => String(spp.decodeIds(Int32Array.from(list))),
  };
  const bos = ids.get('<s>') ?? null;
  const eos = ids.get('</s>') ?? null;
  return new HFTokenizer(impl, ids, pieces.length, sha256(bytes), file, 'sentencepiece', bos, eos);
}
