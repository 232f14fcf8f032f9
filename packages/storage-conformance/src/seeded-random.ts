/**
 * A seeded pseudo-random generator: mulberry32 (Tommy Ettinger's 32-bit generator), so
 * that a seeded test run replays the same choices. Not for anything that needs
 * unpredictability.
 *
 * @param seed any number; it is taken as an unsigned 32-bit integer (`seed >>> 0`)
 * @returns a function returning the next number of the sequence, in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
