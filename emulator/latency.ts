// How long the emulated platform takes to answer. `instant` for unit tests; `realistic` follows
// Smartcar's "3–45 seconds on average, up to 300 seconds" for a request that reaches the vehicle
// (sources in emulator/README.md), drawn from a seeded generator so a run can be repeated.
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

export const LATENCY_PROFILES = ['instant', 'realistic'] as const;
export type LatencyProfile = (typeof LATENCY_PROFILES)[number];

export interface LatencySettings {
  profile: LatencyProfile;
  /** Multiplies every latency (0.01: a 15 s call takes 150 ms), so tests can run the realistic shape fast. */
  scale: number;
  /** Seed of the random source the realistic profile draws from. */
  seed: number;
  /** Every request that reaches a vehicle takes exactly this long (before scaling), whatever the profile. */
  vehicleLatencyMs: number | null;
}

export const DEFAULT_LATENCY: LatencySettings = {
  profile: 'instant',
  scale: 1,
  seed: 1,
  vehicleLatencyMs: null,
};

const SECOND = 1000;
/** Share of vehicle requests in the long tail beyond the documented average range (assumed). */
const TAIL_SHARE = 0.1;

export class Latency {
  private random: () => number;

  constructor(private current: LatencySettings) {
    this.random = seeded(current.seed);
  }

  get settings(): LatencySettings {
    return { ...this.current };
  }

  set settings(settings: LatencySettings) {
    if (settings.seed !== this.current.seed) this.random = seeded(settings.seed);
    this.current = { ...settings };
  }

  /**
   * A request that reaches the vehicle (a read, a command, a batch of `items` read side by side):
   * log-uniform over 3–45 s, one in ten in a tail up to 300 s. A batch takes as long as its slowest item.
   */
  vehicleMs(items = 1): number {
    const { profile, scale, vehicleLatencyMs } = this.current;
    if (vehicleLatencyMs !== null) return vehicleLatencyMs * scale;
    if (profile === 'instant') return 0;
    let slowest = 0;
    for (let item = 0; item < items; item += 1) {
      const ms =
        this.random() < TAIL_SHARE
          ? this.between(45 * SECOND, 300 * SECOND)
          : this.logBetween(3 * SECOND, 45 * SECOND);
      slowest = Math.max(slowest, ms);
    }
    return slowest * scale;
  }

  /** A request Smartcar answers without the vehicle (vehicle list, user, permissions, tokens): 0.1–1 s, assumed. */
  platformMs(): number {
    const { profile, scale } = this.current;
    return profile === 'instant' ? 0 : this.logBetween(100, SECOND) * scale;
  }

  private between(min: number, max: number): number {
    return min + this.random() * (max - min);
  }

  private logBetween(min: number, max: number): number {
    return Math.exp(this.between(Math.log(min), Math.log(max)));
  }
}

const RESOLUTION = 2 ** 30;

/** A uniform number in [0, 1) from a seeded xoroshiro128+ generator. */
function seeded(seed: number): () => number {
  const generator = xoroshiro128plus(seed);
  return () => uniformInt(generator, 0, RESOLUTION - 1) / RESOLUTION;
}
