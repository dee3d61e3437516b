// Seeded randomness: every run with the same seed repeats.

/** mulberry32: small, fast, good enough for sampling and shuffling. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates, in place, seeded. */
export function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** A 32-bit FNV-1a hash of a string, mixed with a seed (for per-item decisions independent of order). */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** xs in a seeded order by their ids' hash (ties by id), the same whichever order they come in. */
export function seededOrder<T>(xs: readonly T[], id: (x: T) => string, seed: number): T[] {
  return [...xs].sort((a, b) => hash32(id(a), seed) - hash32(id(b), seed) || (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}
