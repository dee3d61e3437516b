// Shared by tests that run the CLI in a child process: wait for it and collect its output.
import type { ChildProcess } from 'node:child_process';

export function finish(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  c.stdout!.on('data', (d) => (stdout += d));
  c.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => c.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}
