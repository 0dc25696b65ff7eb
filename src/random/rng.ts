/**
 * Seeded pseudo-random numbers with explicit state: no Math.random, no global seed.
 *
 * The generator is xoshiro128** (Blackman & Vigna 2018, https://prng.di.unimi.it/xoshiro128starstar.c),
 * seeded through splitmix32 so that nearby integer seeds give unrelated streams. Its whole state is
 * four uint32 words, so a training run can store it in a checkpoint and resume bit for bit.
 *
 * @see [BV18] Blackman & Vigna, "Scrambled linear pseudorandom number generators", arXiv:1805.01407v3
 */

/** The serialisable state of an {@link Rng}: four 32-bit words, never all zero. */
export type RngState = readonly [number, number, number, number];

/** splitmix32 step: a well-mixed 32-bit output from a Weyl sequence (used only for seeding). */
function splitmix32(x: number): [next: number, out: number] {
  const next = (x + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

const TWO_PI = 2 * Math.PI;
const INV_2_32 = 1 / 4294967296;

/** A xoshiro128** generator with explicit, serialisable state (see the file header). */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = state;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) {
      throw new Error('Rng state must not be all zeros (xoshiro128** would output zeros forever)');
    }
  }

  /** A generator from an integer seed (any safe integer; different seeds give independent-looking streams). */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a safe integer, got ${seed}`);
    // Fold the high bits in so that seeds beyond 2^32 are distinct too.
    let x = (seed | 0) ^ Math.imul(Math.floor(seed / 4294967296) | 0, 0x27d4eb2d);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(x);
      x = next;
      words.push(out);
    }
    return new Rng(words as unknown as RngState);
  }

  /** A generator that continues exactly from a saved {@link RngState}. */
  static fromState(state: RngState): Rng {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new Error('Rng state must be four unsigned 32-bit integers');
    }
    return new Rng(state);
  }

  /** The current state; `Rng.fromState(rng.state())` continues the same stream. */
  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** An independent child stream (seeded from this stream's next outputs); advances this stream. */
  split(): Rng {
    let x = this.nextUint32() ^ Math.imul(this.nextUint32(), 0x9e3779b1);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(x);
      x = next;
      words.push(out);
    }
    return new Rng(words as unknown as RngState);
  }

  /** Next uniformly distributed unsigned 32-bit integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform on [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform on the open interval (0, 1): safe to take the log of. */
  uniformOpen(): number {
    return (this.nextUint32() + 0.5) * INV_2_32;
  }

  /** Uniform integer in [0, n). Uses rejection so every value is exactly equally likely. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296)
      throw new Error(`int(n) needs 1 ≤ n ≤ 2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % n;
    }
  }

  /** One standard normal draw (Box–Muller; the second value of the pair is discarded). */
  normal(): number {
    const r = Math.sqrt(-2 * Math.log(this.uniformOpen()));
    return r * Math.cos(TWO_PI * this.uniformOpen());
  }

  /** Fills `out` with independent standard normal draws (Box–Muller, both values of each pair used). */
  fillNormal<T extends Float32Array | Float64Array>(out: T, mean = 0, std = 1): T {
    const n = out.length;
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(this.uniformOpen()));
      const theta = TWO_PI * this.uniformOpen();
      out[i] = mean + std * r * Math.cos(theta);
      if (i + 1 < n) out[i + 1] = mean + std * r * Math.sin(theta);
    }
    return out;
  }

  /** Fills `out` with independent uniform draws on [lo, hi). */
  fillUniform<T extends Float32Array | Float64Array>(out: T, lo = 0, hi = 1): T {
    const w = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + w * this.uniform();
    return out;
  }

  /** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
