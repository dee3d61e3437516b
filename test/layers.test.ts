// The house rules of src/: every import points down a layer (util/config → sandbox → data → model →
// search → train → cli, and web: the browser page, an app beside the CLI), and no file imports the CLI or starts it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');
const LAYERS = ['util', 'config.ts', 'sandbox', 'data', 'model', 'search', 'train', 'cli.ts', 'web'];
const RANK: Record<string, number> = { util: 0, 'config.ts': 0, sandbox: 1, data: 2, model: 3, search: 4, train: 5, 'cli.ts': 6, web: 6 };

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.(ts|js)$/.test(e.name) ? [p] : [];
  });
}

const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;
/** Relative specifiers of static and dynamic imports, and (entries) of `new URL(…, import.meta.url)`:
 *  the entry files of worker threads and child processes, which count for layers but not for cycles. */
function imports(file: string, entries = true): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const re = entries ? /(?:from\s+|import\s*\(\s*|import\s+|new URL\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g : /(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;
  return [...text.matchAll(re)].map((m) => path.resolve(path.dirname(file), m[1]!));
}

describe('layers of src/', () => {
  const all = files(SRC);

  it('every file sits in a known layer', () => {
    for (const f of all) expect(LAYERS, path.relative(SRC, f)).toContain(layerOf(f));
  });

  it('no import points up a layer', () => {
    const up: string[] = [];
    for (const f of all) {
      for (const target of imports(f)) {
        if (RANK[layerOf(target)]! > RANK[layerOf(f)]!) up.push(`${path.relative(SRC, f)} → ${path.relative(SRC, target)}`);
      }
    }
    expect(up).toEqual([]);
  });

  it('no cycle among files', () => {
    const graph = new Map(all.map((f) => [f, imports(f, false).filter((t) => all.includes(t))]));
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 2) return;
      if (state.get(f) === 1) {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => path.relative(SRC, x)).join(' → '));
        return;
      }
      state.set(f, 1);
      for (const t of graph.get(f)!) visit(t, [...stack, f]);
      state.set(f, 2);
    };
    for (const f of all) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('library code never starts the CLI', () => {
    const offenders = all.filter((f) => layerOf(f) !== 'cli.ts' && /cli\.ts['"]/.test(fs.readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(SRC, f))).toEqual([]);
  });
});
