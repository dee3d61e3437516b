// Identifiers for the values a converted solution computes.
import { RESERVED } from '../text.ts';
const camel = (words: string[]): string =>
  words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');

/** Hands out unique, valid identifiers. */
export class Namer {
  private readonly used = new Set<string>();
  private n = 0;
  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }
  /** Try one word, then two, then a numbered suffix; `v1`, `v2`… when there are no words. */
  take(words: string[], minWords = 1): string {
    const ws = words.map((w) => w.toLowerCase()).filter((w) => /^[a-z][a-z0-9]*$/.test(w));
    for (let k = Math.min(minWords, ws.length, 2) || 1; k <= Math.min(2, ws.length); k++) {
      const c = camel(ws.slice(0, k));
      if (c.length <= 24 && this.free(c)) return this.claim(c);
    }
    if (ws.length && !RESERVED.has(ws[0]!)) {
      const base = camel(ws.slice(0, 1));
      for (let i = 2; i < 100; i++) if (this.free(`${base}${i}`)) return this.claim(`${base}${i}`);
    }
    for (;;) {
      const c = `v${++this.n}`;
      if (this.free(c)) return this.claim(c);
    }
  }
  has(name: string): boolean {
    return this.used.has(name);
  }
  claim(name: string): string {
    this.used.add(name);
    return name;
  }
  private free(c: string): boolean {
    return !this.used.has(c) && !RESERVED.has(c.toLowerCase());
  }
}

