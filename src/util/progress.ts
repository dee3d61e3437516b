// Progress for long jobs: items done, rate, ETA. On a terminal one line is redrawn in place; otherwise
// (CI, logs) a plain line is printed at most every `everyMs`, so logs stay readable.

export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  everyMs?: number;
  stream?: NodeJS.WriteStream;
  /** Items already done before this process started (a resumed job): not counted in the rate. */
  start?: number;
}

export class Progress {
  private done: number;
  private readonly t0 = Date.now();
  private readonly start: number;
  private last = 0;
  private extra = '';
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly o: ProgressOptions) {
    this.done = o.start ?? 0;
    this.start = this.done;
    this.stream = o.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY) && !process.env.CI;
  }

  /** Advance by n items; `info` is shown after the counters (e.g. "loss 1.23"). */
  tick(n = 1, info?: string): void {
    this.done += n;
    if (info !== undefined) this.extra = info;
    const now = Date.now();
    const every = this.o.everyMs ?? (this.tty ? 200 : 10_000);
    if (now - this.last >= every || this.done >= this.o.total) {
      this.last = now;
      this.render(false);
    }
  }

  set(info: string): void {
    this.extra = info;
  }

  finish(info?: string): void {
    if (info !== undefined) this.extra = info;
    this.render(true);
  }

  line(): string {
    const secs = (Date.now() - this.t0) / 1000;
    const rate = secs > 0 ? (this.done - this.start) / secs : 0;
    const left = Math.max(0, this.o.total - this.done);
    const eta = rate > 0 ? left / rate : NaN;
    const pct = this.o.total > 0 ? ((100 * this.done) / this.o.total).toFixed(1) : '100.0';
    const unit = this.o.unit ?? 'it';
    const rateStr = rate >= 100 ? rate.toFixed(0) : rate.toFixed(2);
    return `${this.o.label} ${Number.isInteger(this.done) ? this.done : this.done.toFixed(1)}/${this.o.total} (${pct}%) ${rateStr} ${unit}/s ` +
      `elapsed ${fmtTime(secs)} eta ${fmtTime(eta)}${this.extra ? ' | ' + this.extra : ''}`;
  }

  private render(final: boolean): void {
    const text = this.line();
    if (this.tty) this.stream.write(`\r\x1b[K${text}${final ? '\n' : ''}`);
    else this.stream.write(text + '\n');
  }
}

export function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}
