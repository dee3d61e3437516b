// Arrow IPC files for problems, trajectories, preference pairs, eval results and saved MCTS trees.
//
// Each table's schema is declared once below (TABLES) and used for writing, reading and validation.
// Files use the Arrow IPC *file* format (random access, readable by pyarrow / polars / duckdb).
// Writing is bounded and atomic: rows are buffered into record batches of `batchSize`, each batch is
// serialised by apache-arrow's RecordBatchFileWriter and handed to an fs write stream, waiting for
// 'drain' before the next one (RecordBatchWriter.throughNode() would queue the whole file in memory);
// everything goes to `<path>.tmp-<pid>`, which is renamed to `<path>` only on close().
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  AsyncByteQueue,
  Bool,
  DataType,
  Field,
  Float32,
  Int32,
  List,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  tableFromIPC,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';

export interface ProblemRow {
  id: string;
  question: string;
  answer: string;
  source: string;
  split: 'train' | 'dev';
}

export interface TrajectoryRow {
  problemId: string;
  question: string;
  /** Serialised step texts (serializeStep), in order. */
  steps: string[];
  /** Per-step Q values (stored as float32). */
  q: number[];
  /** Per-step MCTS visit counts. */
  visits: number[];
  correct: boolean;
  finalAnswer: string;
  round: number;
  source: string;
}

export interface PairRow {
  problemId: string;
  /** The question itself: the values of its numbers, which a prompt need not spell (PPM value input). */
  question: string;
  /** Question prompt + the steps so far: what the PPM scores a candidate step after. */
  prefix: string;
  positive: string;
  negative: string;
  qPos: number;
  qNeg: number;
  round: number;
}

export interface EvalRow {
  problemId: string;
  question: string;
  gold: string;
  predicted: string;
  correct: boolean;
  mode: string;
  score: number;
}

/** One node of a saved MCTS tree (search/mcts.ts MCTSNode), as the run report shows it. */
export interface TreeNodeRow {
  problemId: string;
  round: number;
  /** A training round's search, or the dev evaluation's MCTS + PPM. */
  kind: 'train' | 'dev';
  /** Which tree of this problem: 0, then round 4's extra trees or the eval's further runs. */
  tree: number;
  id: number;
  /** −1 for the root. */
  parent: number;
  depth: number;
  /** The step as serialized (steps.ts serializeStep); the root's is the question. */
  text: string;
  /** What the step printed when run after its ancestors. */
  output: string;
  q: number;
  n: number;
  /** PPM initial score; NaN when there was none (terminal-guided search, terminals, the root). */
  prior: number;
  terminal: boolean;
  /** Printed answer of a terminal, else ''. */
  answer: string;
  /** The problem's known answer (the same on every node of a tree). */
  gold: string;
  /** A terminal whose answer grades right against `gold`. */
  correct: boolean;
  /** On the path from the root to the best-Q terminal: the search's answer. */
  chosen: boolean;
  /** Expanded, but every candidate failed. */
  deadEnd: boolean;
}

export interface TableRows {
  problems: ProblemRow;
  trajectories: TrajectoryRow;
  pairs: PairRow;
  eval: EvalRow;
  treeNodes: TreeNodeRow;
}
export type TableName = keyof TableRows;

const utf8 = (): DataType => new Utf8();
const f32 = (): DataType => new Float32();
const i32 = (): DataType => new Int32();
const bool = (): DataType => new Bool();
const list = (t: () => DataType) => (): DataType => new List(new Field('item', t(), false));

/** Column name → type; `-?` makes the compiler insist that every field of Row has a column. */
type Columns<Row> = { [K in keyof Row]-?: () => DataType };

function schemaOf<Row>(cols: Columns<Row>): Schema {
  return new Schema(Object.entries(cols).map(([name, t]) => new Field(name, (t as () => DataType)(), false)));
}

/** The one schema of each table. All columns are non-null. */
export const TABLES: { [K in TableName]: Schema } = {
  problems: schemaOf<ProblemRow>({ id: utf8, question: utf8, answer: utf8, source: utf8, split: utf8 }),
  trajectories: schemaOf<TrajectoryRow>({
    problemId: utf8, question: utf8, steps: list(utf8), q: list(f32), visits: list(i32), correct: bool,
    finalAnswer: utf8, round: i32, source: utf8,
  }),
  pairs: schemaOf<PairRow>({
    problemId: utf8, question: utf8, prefix: utf8, positive: utf8, negative: utf8, qPos: f32, qNeg: f32, round: i32,
  }),
  eval: schemaOf<EvalRow>({
    problemId: utf8, question: utf8, gold: utf8, predicted: utf8, correct: bool, mode: utf8, score: f32,
  }),
  treeNodes: schemaOf<TreeNodeRow>({
    problemId: utf8, round: i32, kind: utf8, tree: i32, id: i32, parent: i32, depth: i32, text: utf8, output: utf8,
    q: f32, n: i32, prior: f32, terminal: bool, answer: utf8, gold: utf8, correct: bool, chosen: bool, deadEnd: bool,
  }),
};

/** Columns limited to a set of values. */
const ENUMS: Partial<Record<TableName, Record<string, readonly string[]>>> = {
  problems: { split: ['train', 'dev'] },
  treeNodes: { kind: ['train', 'dev'] },
};

function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  s = s.replace(/\s+/g, ' ');
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Why `v` does not fit type `t`, or null when it does. */
function mismatch(t: DataType, v: unknown): string | null {
  if (DataType.isUtf8(t)) return typeof v === 'string' ? null : 'a string';
  if (DataType.isBool(t)) return typeof v === 'boolean' ? null : 'a boolean';
  if (DataType.isFloat(t)) return typeof v === 'number' ? null : 'a number';
  if (DataType.isInt(t)) {
    return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX ? null : 'a 32-bit integer';
  }
  if (DataType.isList(t)) {
    if (!Array.isArray(v)) return `an array of ${mismatch(t.children[0]!.type, undefined)?.replace(/^an? /, '')}s`;
    for (let i = 0; i < v.length; i++) {
      const m = mismatch(t.children[0]!.type, v[i]);
      if (m) return `an array of ${m.replace(/^an? /, '')}s (item ${i} is ${show(v[i])})`;
    }
    return null;
  }
  return `a value of type ${t}`;
}

/** Check one row against a schema; throws one line naming the file, row and column. */
function checkRow(where: string, schema: Schema, enums: Record<string, readonly string[]> | undefined, row: unknown, n: number): void {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw new TypeError(`${where}: row ${n}: expected an object, got ${show(row)}`);
  }
  const r = row as Record<string, unknown>;
  for (const f of schema.fields) {
    const m = mismatch(f.type, r[f.name]);
    if (m) throw new TypeError(`${where}: row ${n}: expected "${f.name}" to be ${m}, got ${show(r[f.name])}`);
    const allowed = enums?.[f.name];
    if (allowed && !allowed.includes(r[f.name] as string)) {
      throw new TypeError(`${where}: row ${n}: expected "${f.name}" to be one of ${allowed.join(', ')}, got ${show(r[f.name])}`);
    }
  }
}

function toBatch(schema: Schema, rows: readonly Record<string, unknown>[]): RecordBatch {
  const children = schema.fields.map((f) => vectorFromArray(rows.map((r) => r[f.name]), f.type).data[0]!);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows.length, nullCount: 0, children }));
}

/** Collects what RecordBatchFileWriter emits so we can write it ourselves, with backpressure. */
class ChunkSink extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: Uint8Array | ArrayBufferView | ArrayBuffer | string): void {
    const u8 = value instanceof Uint8Array ? value : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : null;
    if (!u8) throw new TypeError('ChunkSink: expected bytes from the Arrow writer');
    if (u8.byteLength > 0) this.chunks.push(u8);
  }
  take(): Uint8Array[] {
    const c = this.chunks;
    this.chunks = [];
    return c;
  }
}

export interface WriterOptions {
  /** Rows per record batch (memory held before a batch goes to disk). Default 1024. */
  batchSize?: number;
}

const openTemps = new Set<string>();

/**
 * Streaming, bounded, atomic writer of one table. Nothing exists at `path` until close() succeeds;
 * abort() (or a failed close) removes the temp file and leaves any previous file at `path` as it was.
 */
export class ArrowFileWriter<Row extends object> {
  readonly path: string;
  readonly schema: Schema;
  readonly batchSize: number;
  private readonly tmp: string;
  private readonly enums: Record<string, readonly string[]> | undefined;
  private readonly sink = new ChunkSink();
  private readonly writer = new RecordBatchFileWriter();
  private readonly out: fs.WriteStream;
  private buf: Row[] = [];
  private rows = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';
  private streamError: Error | null = null;

  /** Open a writer for one of the named tables. */
  static open<K extends TableName>(file: string, table: K, opts: WriterOptions = {}): ArrowFileWriter<TableRows[K]> {
    return new ArrowFileWriter<TableRows[K]>(file, TABLES[table], opts, ENUMS[table]);
  }

  constructor(file: string, schema: Schema, opts: WriterOptions = {}, enums?: Record<string, readonly string[]>) {
    const batchSize = opts.batchSize ?? 1024;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`ArrowFileWriter: expected batchSize >= 1, got ${batchSize}`);
    this.path = file;
    this.schema = schema;
    this.batchSize = batchSize;
    this.enums = enums;
    this.tmp = `${file}.tmp-${process.pid}`;
    if (openTemps.has(this.tmp)) throw new Error(`${file}: expected one open writer per file, but one is already writing it`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.out = fs.createWriteStream(this.tmp);
    openTemps.add(this.tmp);
    this.out.on('error', (e) => (this.streamError ??= e));
    this.writer.reset(this.sink, schema); // emits the magic bytes and the schema message
  }

  /** Rows accepted so far. */
  get rowCount(): number {
    return this.rows;
  }

  /** Validate and buffer rows; full batches go to disk before this resolves. Bad rows throw, none of the call is kept. */
  async write(rows: Row | readonly Row[]): Promise<void> {
    this.ensureOpen();
    const list = Array.isArray(rows) ? (rows as readonly Row[]) : [rows as Row];
    list.forEach((r, i) => checkRow(this.path, this.schema, this.enums, r, this.rows + i + 1));
    for (const r of list) {
      this.buf.push(r);
      this.rows++;
      if (this.buf.length >= this.batchSize) await this.flush();
    }
  }

  /** Write the remaining rows and the footer, then move the file into place. */
  async close(): Promise<void> {
    this.ensureOpen();
    try {
      if (this.buf.length > 0) await this.flush();
      this.writer.close(); // footer
      await this.drain();
      this.out.end();
      await once(this.out, 'close');
      if (this.streamError) throw this.streamError;
      const fh = await fsp.open(this.tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(this.tmp, this.path);
      this.state = 'closed';
      openTemps.delete(this.tmp);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Drop everything written so far; `path` is untouched. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.buf = [];
    if (!this.out.closed) {
      this.out.destroy();
      await once(this.out, 'close').catch(() => undefined);
    }
    await fsp.rm(this.tmp, { force: true });
    openTemps.delete(this.tmp);
  }

  private ensureOpen(): void {
    if (this.state !== 'open') throw new Error(`${this.path}: expected an open writer, but it is ${this.state}`);
    if (this.streamError) throw this.streamError;
  }

  private async flush(): Promise<void> {
    const rows = this.buf;
    this.buf = [];
    this.writer.write(toBatch(this.schema, rows as unknown as Record<string, unknown>[]));
    await this.drain();
  }

  /**
   * Hand the serialised chunks to the file stream, honouring backpressure, and resolve once the last
   * one has reached the file (stream writes complete in order), so a resolved write() is on disk.
   */
  private async drain(): Promise<void> {
    const chunks = this.sink.take();
    for (let i = 0; i < chunks.length; i++) {
      if (this.streamError) throw this.streamError;
      if (i === chunks.length - 1) {
        await new Promise<void>((resolve, reject) => this.out.write(chunks[i]!, (e) => (e ? reject(e) : resolve())));
      } else if (!this.out.write(chunks[i]!)) {
        await once(this.out, 'drain');
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/** A column value as plain JS: numbers (not BigInt), arrays (not Vectors). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && 'toArray' in v && typeof (v as Vector).toArray === 'function') {
    return Array.from((v as Vector).toArray() as ArrayLike<unknown>, plain);
  }
  return v;
}

/** Keep only rows whose `column` passes `keep` (tested before the rest of the row is built). */
export interface RowFilter {
  column: string;
  keep: (value: unknown) => boolean;
}

function tableRows(table: Table, names: readonly string[], where?: RowFilter): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const batch of table.batches) {
    const cols = names.map((n) => batch.getChild(n)!);
    const test = where ? batch.getChild(where.column) : null;
    if (where && !test) throw new Error(`readTable: no column "${where.column}" to filter on`);
    for (let i = 0; i < batch.numRows; i++) {
      if (test && !where!.keep(plain(test.get(i)))) continue;
      const row: Record<string, unknown> = {};
      names.forEach((n, j) => (row[n] = plain(cols[j]!.get(i))));
      out.push(row);
    }
  }
  return out;
}

function loadTable(file: string): Table {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: expected a readable Arrow file (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
  try {
    return tableFromIPC(bytes);
  } catch (e) {
    throw new Error(`${file}: expected an Arrow IPC file (${(e as Error).message.replace(/\s+/g, ' ')})`);
  }
}

/**
 * All rows of an Arrow file as plain objects. With `table`, the file must have that table's columns
 * and types (extra columns are ignored); without, every column is returned as found.
 */
export function readTable<Row extends object = Record<string, unknown>>(file: string, table?: TableName, where?: RowFilter): Row[] {
  const t = loadTable(file);
  if (!table) return tableRows(t, t.schema.fields.map((f) => f.name), where) as Row[];
  const want = TABLES[table];
  for (const f of want.fields) {
    const got = t.schema.fields.find((g) => g.name === f.name);
    if (!got || String(got.type) !== String(f.type)) {
      throw new Error(`${file}: expected a ${table} table with column "${f.name}" of type ${f.type}, got ${got ? String(got.type) : 'no such column'}`);
    }
  }
  return tableRows(t, want.fields.map((f) => f.name), where) as Row[];
}

export const readProblems = (file: string): ProblemRow[] => readTable<ProblemRow>(file, 'problems');
export const readTrajectories = (file: string): TrajectoryRow[] => readTable<TrajectoryRow>(file, 'trajectories');
export const readPairs = (file: string): PairRow[] => readTable<PairRow>(file, 'pairs');
export const readEvalRows = (file: string): EvalRow[] => readTable<EvalRow>(file, 'eval');
export const readTreeNodes = (file: string, where?: RowFilter): TreeNodeRow[] => readTable<TreeNodeRow>(file, 'treeNodes', where);

// ---------------------------------------------------------------------------------------------------
// Writing whole tables

/** Write all rows of a table to `file` (atomically, in batches). */
export async function writeTable<K extends TableName>(file: string, table: K, rows: Iterable<TableRows[K]>, opts: WriterOptions = {}): Promise<number> {
  const w = ArrowFileWriter.open(file, table, opts);
  try {
    const chunk: TableRows[K][] = [];
    for (const r of rows) {
      chunk.push(r);
      if (chunk.length >= w.batchSize) await w.write(chunk.splice(0));
    }
    await w.write(chunk);
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.rowCount;
}

export const writeProblems = (file: string, rows: Iterable<ProblemRow>, opts?: WriterOptions): Promise<number> => writeTable(file, 'problems', rows, opts);
export const writeTrajectories = (file: string, rows: Iterable<TrajectoryRow>, opts?: WriterOptions): Promise<number> => writeTable(file, 'trajectories', rows, opts);
export const writePairs = (file: string, rows: Iterable<PairRow>, opts?: WriterOptions): Promise<number> => writeTable(file, 'pairs', rows, opts);
export const writeEvalRows = (file: string, rows: Iterable<EvalRow>, opts?: WriterOptions): Promise<number> => writeTable(file, 'eval', rows, opts);
export const writeTreeNodes = (file: string, rows: Iterable<TreeNodeRow>, opts?: WriterOptions): Promise<number> => writeTable(file, 'treeNodes', rows, opts);

/**
 * Append rows to a table file for resumable jobs (self-evolve checkpoints after each problem batch).
 * The existing rows are read and the whole file is rewritten through a temp file and a rename, so a
 * crash leaves either the old or the new file, never a torn one. Read + rewrite is O(file) per call,
 * which is fine for our sizes (tens of MB); a missing file starts empty. Returns the total row count.
 */
export async function appendRows<K extends TableName>(file: string, table: K, rows: readonly TableRows[K][], opts: WriterOptions = {}): Promise<number> {
  const old = fs.existsSync(file) ? readTable<TableRows[K]>(file, table) : [];
  return writeTable(file, table, [...old, ...rows], opts);
}

/** Pairs without repeats (same prefix, positive and negative). */
export function dedupePairs(rows: PairRow[]): PairRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = [r.prefix, r.positive, r.negative].join('\u0000');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Trajectories without repeats (same problem, same steps). */
export function dedupe(rows: TrajectoryRow[]): TrajectoryRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const key = r.problemId + '\u0000' + r.steps.join('');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
