import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ArrowFileWriter,
  TABLES,
  appendRows,
  readEvalRows,
  readPairs,
  readProblems,
  readTable,
  readTrajectories,
  writeEvalRows,
  writePairs,
  writeProblems,
  writeTrajectories,
  type EvalRow,
  type PairRow,
  type ProblemRow,
  type TrajectoryRow,
} from '../src/data/arrow.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rstar-arrow-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const at = (name: string): string => path.join(tmp, name);

function traj(i: number): TrajectoryRow {
  const n = i % 4; // includes empty step lists
  return {
    problemId: `p${i}`,
    question: i % 3 === 0 ? `Ünïcødé ✓ 数学 ${i} 🧮` : `What is ${i}+1?`,
    steps: Array.from({ length: n }, (_, k) => `// step ${k} — ∑\nconst x${k} = ${k};\n<end_of_step>\n`),
    q: Array.from({ length: n }, (_, k) => Math.fround((k - 1) * 0.25)),
    visits: Array.from({ length: n }, (_, k) => k * 7 + i),
    correct: i % 2 === 0,
    finalAnswer: String(i + 1),
    round: i % 3,
    source: 'gsm8k',
  };
}
function pair(i: number): PairRow {
  return { problemId: `p${i}`, question: `Q ${i} é`, prefix: `<question>Q ${i} é<solution>\n`, positive: 'print(1);', negative: '', qPos: 0.5, qNeg: -1, round: 2 };
}
const problem = (i: number): ProblemRow => ({ id: `id-${i}`, question: `q ${i} π`, answer: `${i}`, source: 'math', split: i % 10 === 0 ? 'dev' : 'train' });
const evalRow = (i: number): EvalRow => ({ problemId: `p${i}`, question: 'q', gold: '1', predicted: i % 2 ? '1' : '', correct: i % 2 === 1, mode: 'greedy', score: Math.fround(i / 3) });

describe('round trips', () => {
  it('trajectories: unicode, empty lists, many batches', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => traj(i));
    const f = at('traj.arrow');
    expect(await writeTrajectories(f, rows, { batchSize: 1000 })).toBe(2500);
    const back = readTrajectories(f);
    expect(back).toEqual(rows);
    expect(back[0]!.steps).toEqual([]);
    expect(back[0]!.q).toEqual([]);
    expect(Array.isArray(back[3]!.q)).toBe(true);
    expect(typeof back[3]!.visits[0]).toBe('number');
    // Three record batches of at most 1000 rows.
    const polars = pl.readIPC(fs.readFileSync(f));
    expect(polars.height).toBe(2500);
  });
  it('float32 columns store float32 values', async () => {
    const f = at('f32.arrow');
    await writePairs(f, [{ ...pair(0), qPos: 0.1, qNeg: Number.NaN }]);
    const [r] = readPairs(f);
    expect(r!.qPos).toBe(Math.fround(0.1));
    expect(r!.qNeg).toBeNaN();
  });
  it('pairs, problems and eval rows', async () => {
    const pairs = Array.from({ length: 10 }, (_, i) => pair(i));
    await writePairs(at('pairs.arrow'), pairs, { batchSize: 3 });
    expect(readPairs(at('pairs.arrow'))).toEqual(pairs);
    const probs = Array.from({ length: 25 }, (_, i) => problem(i));
    await writeProblems(at('problems.arrow'), probs);
    expect(readProblems(at('problems.arrow'))).toEqual(probs);
    const ev = Array.from({ length: 7 }, (_, i) => evalRow(i));
    await writeEvalRows(at('eval.arrow'), ev);
    expect(readEvalRows(at('eval.arrow'))).toEqual(ev);
  });
  it('zero rows keeps the schema', async () => {
    const f = at('empty.arrow');
    expect(await writeTrajectories(f, [])).toBe(0);
    expect(readTrajectories(f)).toEqual([]);
    const df = pl.readIPC(fs.readFileSync(f));
    expect(df.height).toBe(0);
    expect(df.columns).toEqual(TABLES.trajectories.fields.map((x) => x.name));
  });
  it('streams: rows reach disk batch by batch, not at close', async () => {
    const f = at('stream.arrow');
    const w = ArrowFileWriter.open(f, 'trajectories', { batchSize: 100 });
    const tmpFile = `${f}.tmp-${process.pid}`;
    await w.write(Array.from({ length: 100 }, (_, i) => traj(i)));
    const afterOne = fs.statSync(tmpFile).size;
    await w.write(Array.from({ length: 250 }, (_, i) => traj(100 + i)));
    const afterThree = fs.statSync(tmpFile).size;
    expect(afterOne).toBeGreaterThan(5000);
    expect(afterThree).toBeGreaterThan(afterOne * 2.5);
    expect(w.rowCount).toBe(350);
    await w.close();
    expect(readTrajectories(f)).toHaveLength(350);
  });
  it('readTable without a table name returns every column', async () => {
    const rows = readTable<Record<string, unknown>>(at('pairs.arrow'));
    expect(Object.keys(rows[0]!)).toEqual(TABLES.pairs.fields.map((x) => x.name));
  });
});

describe('atomicity and validation', () => {
  it('nothing at path until close', async () => {
    const f = at('sub/dir/late.arrow');
    const w = ArrowFileWriter.open(f, 'pairs', { batchSize: 2 });
    await w.write([pair(1), pair(2), pair(3)]);
    expect(fs.existsSync(f)).toBe(false);
    expect(fs.existsSync(`${f}.tmp-${process.pid}`)).toBe(true);
    await w.close();
    expect(fs.existsSync(f)).toBe(true);
    expect(fs.existsSync(`${f}.tmp-${process.pid}`)).toBe(false);
    await expect(w.write(pair(4))).rejects.toThrow(/expected an open writer, but it is closed/);
  });
  it('a failed write leaves the previous file intact', async () => {
    const f = at('keep.arrow');
    await writePairs(f, [pair(1), pair(2)]);
    const before = fs.readFileSync(f);
    const bad = { ...pair(3), qPos: 'high' } as unknown as PairRow;
    await expect(writePairs(f, [pair(3), pair(4), bad])).rejects.toThrow(`${f}: row 3: expected "qPos" to be a number, got "high"`);
    expect(fs.readFileSync(f).equals(before)).toBe(true);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('keep.arrow.tmp'))).toEqual([]);
    // An aborted writer also leaves it alone.
    const w = ArrowFileWriter.open(f, 'pairs', { batchSize: 1 });
    await w.write([pair(9), pair(10)]);
    await w.abort();
    expect(readPairs(f)).toEqual([pair(1), pair(2)]);
  });
  it('rejects rows that do not fit the schema, one line each', async () => {
    const w = ArrowFileWriter.open(at('bad.arrow'), 'trajectories');
    const cases: [Partial<Record<keyof TrajectoryRow, unknown>>, string][] = [
      [{ steps: 'x' }, 'row 1: expected "steps" to be an array of strings, got "x"'],
      [{ q: [0.5, '1'] }, 'row 1: expected "q" to be an array of numbers (item 1 is "1"), got [0.5,"1"]'],
      [{ visits: [1.5] }, 'row 1: expected "visits" to be an array of 32-bit integers (item 0 is 1.5), got [1.5]'],
      [{ round: 2 ** 31 }, 'row 1: expected "round" to be a 32-bit integer, got 2147483648'],
      [{ correct: 1 }, 'row 1: expected "correct" to be a boolean, got 1'],
      [{ finalAnswer: undefined }, 'row 1: expected "finalAnswer" to be a string, got undefined'],
    ];
    for (const [patch, msg] of cases) {
      const row = { ...traj(1), ...patch } as TrajectoryRow;
      await expect(w.write(row)).rejects.toThrow(msg);
    }
    await expect(w.write(null as unknown as TrajectoryRow)).rejects.toThrow('row 1: expected an object, got null');
    expect(w.rowCount).toBe(0);
    await w.abort();
    await expect(writeProblems(at('p.arrow'), [{ ...problem(1), split: 'test' as 'dev' }])).rejects.toThrow(
      'row 1: expected "split" to be one of train, dev, got "test"',
    );
  });
  it('typed readers check the schema', async () => {
    expect(() => readTrajectories(at('pairs.arrow'))).toThrow(/expected a trajectories table with column "steps" of type List<Utf8>, got no such column/);
    fs.writeFileSync(at('junk.arrow'), 'not arrow');
    expect(() => readPairs(at('junk.arrow'))).toThrow(/junk\.arrow: expected an Arrow IPC file/);
    expect(() => readPairs(at('missing.arrow'))).toThrow(/missing\.arrow: expected a readable Arrow file/);
  });
  it('one writer per file at a time', () => {
    const f = at('twice.arrow');
    const w = ArrowFileWriter.open(f, 'eval');
    expect(() => ArrowFileWriter.open(f, 'eval')).toThrow(/expected one open writer per file/);
    return w.abort();
  });
});

describe('appendRows', () => {
  it('starts a file, then keeps old rows and adds new ones', async () => {
    const f = at('append.arrow');
    expect(await appendRows(f, 'trajectories', [traj(0), traj(1)])).toBe(2);
    expect(await appendRows(f, 'trajectories', [traj(2)], { batchSize: 2 })).toBe(3);
    expect(await appendRows(f, 'trajectories', [])).toBe(3);
    expect(readTrajectories(f)).toEqual([traj(0), traj(1), traj(2)]);
  });
  it('a bad append leaves the file as it was', async () => {
    const f = at('append.arrow');
    const before = fs.readFileSync(f);
    await expect(appendRows(f, 'trajectories', [traj(3), { ...traj(4), round: -0.5 }])).rejects.toThrow(/row 5: expected "round" to be a 32-bit integer/);
    expect(fs.readFileSync(f).equals(before)).toBe(true);
  });
});

describe('polars reads our files', () => {
  it('trajectories with the declared dtypes and values', async () => {
    const f = at('polars-traj.arrow');
    const rows = Array.from({ length: 40 }, (_, i) => traj(i));
    await writeTrajectories(f, rows, { batchSize: 16 });
    const df = pl.readIPC(fs.readFileSync(f));
    const s = df.schema;
    expect(s.problemId!.equals(pl.String)).toBe(true);
    expect(s.steps!.equals(pl.List(pl.String))).toBe(true);
    expect(s.q!.equals(pl.List(pl.Float32))).toBe(true);
    expect(s.visits!.equals(pl.List(pl.Int32))).toBe(true);
    expect(s.correct!.equals(pl.Bool)).toBe(true);
    expect(s.round!.equals(pl.Int32)).toBe(true);
    expect(df.height).toBe(40);
    const recs = df.toRecords() as unknown as TrajectoryRow[];
    expect(recs[3]).toEqual(rows[3]);
    expect(recs[0]!.question).toBe(rows[0]!.question);
    expect(df.getColumn('correct').toArray().filter((x: unknown) => x === true)).toHaveLength(20);
    expect(df.getColumn('q').toArray()[5]).toEqual(rows[5]!.q);
  });
  it('pairs with Float32 scores', async () => {
    const f = at('polars-pairs.arrow');
    await writePairs(f, [pair(1), { ...pair(2), qPos: 0.75, qNeg: -0.25 }]);
    const df = pl.readIPC(fs.readFileSync(f));
    expect(df.schema.qPos!.equals(pl.Float32)).toBe(true);
    expect(df.schema.round!.equals(pl.Int32)).toBe(true);
    expect(df.getColumn('qPos').toArray()).toEqual([0.5, 0.75]);
    expect(df.getColumn('prefix').toArray()[0]).toBe('<question>Q 1 é<solution>\n');
  });
});
