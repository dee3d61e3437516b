// SentencePiece tokenizer: a 2048-piece BPE model trained on our own training text (questions of the
// four datasets + the round-0 bootstrap trajectories), shipped as src/model/spm/rstar.model.
//
// Choices (see trainTokenizer):
// - BPE rather than unigram: the segmentation of a string is a fixed sequence of greedy merges with no
//   scores to re-balance, the family Llama/Qwen policies use; with one thread training is reproducible.
// - Text round-trips exactly: identity normalisation, no dummy prefix, no whitespace collapsing,
//   whitespace-only pieces allowed (indentation), and "\n" is a user-defined symbol (one id). Anything
//   the vocabulary lacks falls back to UTF-8 byte pieces, so there is no <unk> in practice.
// - Digits are split (one id per digit), so numbers are spelled the same way everywhere.
// - The step markers (MARKERS in steps.ts) are user-defined symbols: always exactly one id each.
// - No BOS/EOS is ever added by encode(); callers add them explicitly if they want them.
//
// The boundary rule for MCTS: encode(a) ++ encode(b) can differ from encode(a + b) where a merge would
// cross the join. We therefore always encode whole texts (prompt + steps so far), never concatenate id
// lists, and cut steps only at marker ids; since every step ends with a marker followed by "\n", both
// of which are user-defined symbols that never merge with a neighbour, a step boundary is also a token
// boundary and the ids of earlier steps never change when a step is appended.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentencePieceProcessor } from '@sctg/sentencepiece-js';
import { MARKERS, promptFor, serializeSolution } from '../data/steps.ts';

/** The shipped model. */
export const DEFAULT_MODEL: string = fileURLToPath(new URL('./spm/rstar.model', import.meta.url));

export const NEWLINE = '\n';
/** User-defined symbols, in id order right after the control pieces. */
export const USER_SYMBOLS: readonly string[] = [...MARKERS, NEWLINE];

/** Piece types of sentencepiece_model.proto. */
export const PieceType = { Normal: 1, Unknown: 2, Control: 3, UserDefined: 4, Unused: 5, Byte: 6 } as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

interface Piece {
  piece: string;
  type: PieceType;
}

/**
 * The pieces of a .model file. ModelProto field 1 is `repeated SentencePiece pieces`, and each has
 * field 1 `piece` (string), 2 `score` (float), 3 `type` (enum). Parsed directly so the vocabulary is
 * available without relying on what the wasm build exposes.
 */
export function readModelPieces(bytes: Uint8Array): Piece[] {
  let p = 0;
  const varint = (buf: Uint8Array, end: number): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (p >= end) throw new Error('tokenizer: truncated varint in .model');
      const b = buf[p++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const skip = (wire: number, end: number): void => {
    if (wire === 0) varint(bytes, end);
    else if (wire === 1) p += 8;
    else if (wire === 2) {
      const n = varint(bytes, end); // not `p += varint()`: that adds to the p read before the call
      p += n;
    }
    else if (wire === 5) p += 4;
    else throw new Error(`tokenizer: unsupported wire type ${wire} in .model`);
  };
  const dec = new TextDecoder('utf-8', { fatal: true });
  const pieces: Piece[] = [];
  while (p < bytes.length) {
    const key = varint(bytes, bytes.length);
    if (key >> 3 === 1 && (key & 7) === 2) {
      const len = varint(bytes, bytes.length);
      const end = p + len;
      let piece = '';
      let type: PieceType = PieceType.Normal;
      while (p < end) {
        const k = varint(bytes, end);
        if (k >> 3 === 1 && (k & 7) === 2) {
          const n = varint(bytes, end);
          piece = dec.decode(bytes.subarray(p, p + n));
          p += n;
        } else if (k >> 3 === 3 && (k & 7) === 0) type = varint(bytes, end) as PieceType;
        else skip(k & 7, end);
      }
      pieces.push({ piece, type });
    } else skip(key & 7, bytes.length);
  }
  return pieces;
}

export class Tokenizer {
  private readonly ids = new Map<string, number>();

  private constructor(
    private readonly spp: SentencePieceProcessor,
    private readonly pieces: Piece[],
    /** sha256 (hex) of the .model file: checkpoints record it to refuse a mismatched tokenizer. */
    readonly sha256: string,
    readonly modelPath: string,
  ) {
    pieces.forEach((p, i) => this.ids.set(p.piece, i));
  }

  static async load(modelPath: string = DEFAULT_MODEL): Promise<Tokenizer> {
    const bytes = fs.readFileSync(modelPath);
    return Tokenizer.fromBytes(bytes, { sha256: createHash('sha256').update(bytes).digest('hex'), modelPath });
  }

  /** From the .model file's bytes and their sha256 (hex), without file access: the browser page hashes
   *  fetched bytes with Web Crypto. `modelPath` only names the model. */
  static async fromBytes(bytes: Uint8Array, o: { sha256: string; modelPath: string }): Promise<Tokenizer> {
    const spp = new SentencePieceProcessor();
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    await spp.loadFromB64StringModel(btoa(bin));
    return new Tokenizer(spp, readModelPieces(bytes), o.sha256, o.modelPath);
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /** Ids of a text. No BOS/EOS. */
  encode(text: string): number[] {
    if (text === '') return [];
    return this.spp.encodeIds(text);
  }

  encodePieces(text: string): string[] {
    if (text === '') return [];
    return this.spp.encodePieces(text);
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.pieces.length) {
        throw new RangeError(`tokenizer: id ${id} outside [0, ${this.pieces.length})`);
      }
    }
    return String(this.spp.decodeIds(Int32Array.from(ids)));
  }

  /** Id of a piece, or -1 when the vocabulary has no such piece. */
  pieceId(piece: string): number {
    return this.ids.get(piece) ?? -1;
  }

  idToPiece(id: number): string {
    const p = this.pieces[id];
    if (!p) throw new RangeError(`tokenizer: id ${id} outside [0, ${this.pieces.length})`);
    return p.piece;
  }

  pieceType(id: number): PieceType {
    const p = this.pieces[id];
    if (!p) throw new RangeError(`tokenizer: id ${id} outside [0, ${this.pieces.length})`);
    return p.type;
  }

  /** Control ids (trainTokenizer fixes them: unk 0, bos 1, eos 2, pad 3). */
  get unkId(): number {
    return this.pieceId('<unk>');
  }
  get bosId(): number {
    return this.pieceId('<s>');
  }
  get eosId(): number {
    return this.pieceId('</s>');
  }
  get padId(): number {
    return this.pieceId('<pad>');
  }
}

// ---------------------------------------------------------------------------------------------
// Training

/**
 * The training text: every question of the four datasets as its prompt line, and the serialized
 * solution of every problem the bootstrap converters handle (converted without the sandbox: the text
 * is the same whether or not the run later verifies, and this keeps training independent of it).
 * SentencePiece trains on lines, so multi-line texts are split at "\n" (the newline is its own symbol).
 */
export async function tokenizerCorpus(): Promise<string[]> {
  const { datasetSplit, DATASETS } = await import('../data/datasets.ts');
  const { convertProblem } = await import('../data/bootstrap/index.ts');
  const lines: string[] = [];
  for (const name of Object.keys(DATASETS)) {
    // training parts only: a dev problem's text must not shape the vocabulary
    for (const p of datasetSplit(name).train) {
      let steps = null;
      try {
        steps = convertProblem(p);
      } catch {
        steps = null;
      }
      // the shipped tokenizer was trained on prompts that tag each number with its value
      const text = promptFor(p.question, 'values') + (steps ? serializeSolution(steps) : '');
      for (const l of text.split('\n')) if (l !== '') lines.push(l);
    }
  }
  return lines;
}

export interface TrainTokenizerOptions {
  /** Output path prefix (writes `<out>.model` and `<out>.vocab`); a trailing `.model` is accepted. */
  out: string;
  vocabSize?: number;
  /** Corpus lines; defaults to tokenizerCorpus(). */
  lines?: string[];
  /** spm_train binary. */
  spmTrain?: string;
}

/** The spm_train flags we use (exported so tests and docs show the exact recipe). */
export function spmTrainArgs(input: string, prefix: string, vocabSize: number): string[] {
  return [
    `--input=${input}`,
    `--model_prefix=${prefix}`,
    `--vocab_size=${vocabSize}`,
    '--model_type=bpe',
    '--character_coverage=0.9995',
    '--byte_fallback=true',
    '--split_digits=true',
    `--user_defined_symbols=${USER_SYMBOLS.join(',')}`,
    '--normalization_rule_name=identity',
    '--remove_extra_whitespaces=false',
    '--add_dummy_prefix=false',
    '--allow_whitespace_only_pieces=true',
    '--split_by_whitespace=true',
    '--max_sentence_length=65536',
    '--input_sentence_size=0',
    '--shuffle_input_sentence=false',
    '--seed_sentencepiece_size=1000000',
    '--num_threads=1',
    '--random_seed=1234',
    '--unk_id=0',
    '--bos_id=1',
    '--eos_id=2',
    '--pad_id=3',
    '--minloglevel=1',
  ];
}

/** Train the SentencePiece model with Debian's spm_train; returns the .model path. */
export async function trainTokenizer(opts: TrainTokenizerOptions): Promise<string> {
  const prefix = opts.out.replace(/\.model$/, '');
  const lines = opts.lines ?? (await tokenizerCorpus());
  if (lines.some((l) => l.includes('\n'))) throw new Error('trainTokenizer: corpus lines must not contain "\\n"');
  fs.mkdirSync(path.dirname(path.resolve(prefix)), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-spm-'));
  try {
    const input = path.join(tmp, 'corpus.txt');
    fs.writeFileSync(input, lines.join('\n') + '\n');
    // Train into the temp dir, then move: a failed run never leaves a half-written model behind. The
    // .model embeds the trainer flags, so paths are relative to a fixed name: same corpus, same bytes.
    const tmpPrefix = path.join(tmp, 'rstar');
    try {
      execFileSync(opts.spmTrain ?? 'spm_train', spmTrainArgs('corpus.txt', 'rstar', opts.vocabSize ?? 2048), {
        cwd: tmp,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (e) {
      const err = e as { code?: string; stderr?: Buffer };
      if (err.code === 'ENOENT') {
        throw new Error('trainTokenizer: spm_train not found; install it (Debian/Ubuntu: apt-get install sentencepiece)');
      }
      throw new Error(`trainTokenizer: spm_train failed: ${String(err.stderr ?? e).slice(-2000)}`);
    }
    for (const ext of ['.model', '.vocab']) {
      fs.copyFileSync(`${tmpPrefix}${ext}`, `${prefix}${ext}.tmp`);
      fs.renameSync(`${prefix}${ext}.tmp`, `${prefix}${ext}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return `${prefix}.model`;
}
