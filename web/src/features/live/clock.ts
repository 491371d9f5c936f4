/**
 * The client's estimate of the server's clock from `ping`/`pong` exchanges (docs/LIVE.md "Time"),
 * mirroring `selah_live::clock`: NTP's offset formula, keeping the sample with the smallest round
 * trip, whose error is at most half that round trip.
 */

/** One exchange: `t0` client send, `t1` server receive, `t2` server send, `t3` client receive (ms). */
export interface Sample {
  t0: number;
  t1: number;
  t2: number;
  t3: number;
}

export interface Estimate {
  /** Server minus client: add it to the client clock to get the server's. */
  offsetMs: number;
  /** The chosen sample's round trip: the estimate is within half of it. */
  roundTripMs: number;
}

/** Server clock minus client clock, assuming both legs took equal time. */
export function offsetOf(s: Sample): number {
  return (s.t1 - s.t0 + (s.t2 - s.t3)) / 2;
}

/** Time on the wire, both ways. */
export function roundTripOf(s: Sample): number {
  return s.t3 - s.t0 - (s.t2 - s.t1);
}

/** The estimate from the sample with the smallest (non-negative) round trip; null without one. */
export function estimate(samples: readonly Sample[]): Estimate | null {
  let best: Sample | null = null;
  for (const s of samples) {
    const rt = roundTripOf(s);
    if (rt < 0) continue;
    if (best === null || rt < roundTripOf(best)) best = s;
  }
  return best && { offsetMs: offsetOf(best), roundTripMs: roundTripOf(best) };
}

/**
 * The last few samples: old ones drop out so that a clock that drifted (or a laptop that slept)
 * is followed, while a handful still lets one quick exchange outvote slow ones.
 */
export class ClockEstimator {
  private samples: Sample[] = [];
  constructor(private readonly keep = 8) {}

  add(s: Sample): Estimate | null {
    this.samples.push(s);
    if (this.samples.length > this.keep) this.samples.shift();
    return this.current();
  }

  current(): Estimate | null {
    return estimate(this.samples);
  }

  get count(): number {
    return this.samples.length;
  }

  reset(): void {
    this.samples = [];
  }
}
