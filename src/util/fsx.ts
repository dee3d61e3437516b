// Atomic file writes: write a temp file beside the target, then rename, so a crash never leaves a
// half-written file where a complete one was.
import fs from 'node:fs';
import path from 'node:path';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Replace directory `dir` with `tmpDir` atomically enough: the old one is moved aside first. */
export function replaceDir(tmpDir: string, dir: string): void {
  const old = `${dir}.old-${process.pid}`;
  const had = fs.existsSync(dir);
  if (had) fs.renameSync(dir, old);
  fs.renameSync(tmpDir, dir);
  if (had) fs.rmSync(old, { recursive: true, force: true });
}
