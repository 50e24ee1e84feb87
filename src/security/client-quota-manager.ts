/**
 * Kafka's ClientQuotaManager: each principal's produce bytes, fetch bytes and requests, measured as a
 * rate over a sliding window of `samples` × `sampleMs` (Kafka's `quota.window.num` 11 ×
 * `quota.window.size.seconds` 1), and the time a principal over its quota must wait until its rate
 * is back at the quota. Both edges share one manager, so HTTP and the Kafka listener draw on the
 * same budget per principal. The HTTP edge refuses a request while the window is already over
 * (429, Retry-After); the Kafka listener serves it and throttles the connection (KIP-219).
 */
import type { ClientQuotas, QuotaProperty } from './client-quotas.js';
import { type Principal, principalText } from './principal.js';

export interface QuotaWindow {
  /** Kafka's `quota.window.num`: samples kept. */
  samples: number;
  /** Kafka's `quota.window.size.seconds`, in milliseconds: the span of one sample. */
  sampleMs: number;
}

export const DEFAULT_QUOTA_WINDOW: QuotaWindow = { samples: 11, sampleMs: 1000 };

/** Most principals measured at once; past it, those idle for a whole window are forgotten first. */
const MAX_SENSORS = 100_000;

interface Sample {
  startMs: number;
  value: number;
}

/** One principal's measure of one quota: Kafka's Sensor with a Rate of SampledStat samples. */
class RateSensor {
  private readonly samples: Sample[] = [];
  lastRecordMs = 0;

  constructor(private readonly window: QuotaWindow) {}

  record(value: number, now: number): void {
    this.purge(now);
    const current = this.samples[this.samples.length - 1];
    if (current === undefined || now >= current.startMs + this.window.sampleMs) {
      this.samples.push({ startMs: now, value });
      if (this.samples.length > this.window.samples) this.samples.shift();
    } else current.value += value;
    this.lastRecordMs = now;
  }

  /**
   * Kafka's Rate.measure: the samples' total over the time they span, never less than all but one
   * full sample, so a first burst is spread over the window instead of counting as infinite.
   */
  measure(now: number): { ratePerSecond: number; windowMs: number } {
    this.purge(now);
    const oldest = this.samples[0];
    const total = this.samples.reduce((sum, s) => sum + s.value, 0);
    let elapsedMs = oldest === undefined ? 0 : now - oldest.startMs;
    const fullSamples = Math.floor(elapsedMs / this.window.sampleMs);
    const minFullSamples = this.window.samples - 1;
    if (fullSamples < minFullSamples) elapsedMs += (minFullSamples - fullSamples) * this.window.sampleMs;
    if (elapsedMs <= 0) elapsedMs = this.window.sampleMs;
    return { ratePerSecond: (total * 1000) / elapsedMs, windowMs: elapsedMs };
  }

  /** Samples older than the whole window count no more (Kafka's purgeObsoleteSamples). */
  private purge(now: number): void {
    const expireMs = this.window.samples * this.window.sampleMs;
    while (this.samples.length > 0 && (this.samples[0] as Sample).startMs + expireMs <= now) this.samples.shift();
  }
}

export class ClientQuotaManager {
  private readonly sensors = new Map<string, RateSensor>();

  constructor(
    private quotas: ClientQuotas,
    readonly window: QuotaWindow = DEFAULT_QUOTA_WINDOW,
    private readonly clock: () => number = Date.now,
  ) {
    if (!Number.isInteger(window.samples) || window.samples < 2)
      throw new RangeError(`quota.window.num must be an integer of at least 2, got ${window.samples}`);
    if (!Number.isFinite(window.sampleMs) || window.sampleMs < 1)
      throw new RangeError(`the quota sample must last at least 1 ms, got ${window.sampleMs}`);
  }

  /** New quotas, effective for the next request (the measures so far are kept). */
  update(quotas: ClientQuotas): void {
    this.quotas = quotas;
  }

  /** Whether `principal` has a limit for `property`: without one nothing is measured. */
  limitOf(principal: Principal, property: QuotaProperty): number | undefined {
    return this.quotas.limitOf(principal, property);
  }

  /**
   * How long `principal` must wait until its `property` rate is back at its quota, in ms; 0 when it
   * is not over (or has no quota). Kafka's throttleTime: the excess over the quota, as a share of the
   * quota, times the window the rate was measured over.
   */
  throttleTimeMs(principal: Principal, property: QuotaProperty): number {
    const limit = this.quotas.limitOf(principal, property);
    if (limit === undefined) return 0;
    const sensor = this.sensors.get(sensorKey(principal, property));
    if (sensor === undefined) return 0;
    const { ratePerSecond, windowMs } = sensor.measure(this.clock());
    if (ratePerSecond <= limit) return 0;
    // Never longer than the whole window: one huge request must not shut a principal out for hours.
    const maxMs = this.window.samples * this.window.sampleMs;
    return Math.min(Math.ceil(((ratePerSecond - limit) / limit) * windowMs), maxMs);
  }

  /** Counts `amount` (bytes, or 1 request) against `principal`'s `property`, if it has a quota. */
  record(principal: Principal, property: QuotaProperty, amount: number): void {
    if (this.quotas.limitOf(principal, property) === undefined) return;
    const key = sensorKey(principal, property);
    let sensor = this.sensors.get(key);
    const now = this.clock();
    if (sensor === undefined) {
      if (this.sensors.size >= MAX_SENSORS) this.forgetIdle(now);
      sensor = new RateSensor(this.window);
      this.sensors.set(key, sensor);
    }
    sensor.record(amount, now);
  }

  /** Kafka's recordAndGetThrottleTimeMs: counts `amount`, then answers the throttle it leads to. */
  recordAndGetThrottleTimeMs(principal: Principal, property: QuotaProperty, amount: number): number {
    this.record(principal, property, amount);
    return this.throttleTimeMs(principal, property);
  }

  private forgetIdle(now: number): void {
    const idleMs = this.window.samples * this.window.sampleMs;
    for (const [key, sensor] of this.sensors) if (now - sensor.lastRecordMs >= idleMs) this.sensors.delete(key);
    // Still full: every principal is active; forget the oldest-inserted rather than grow without bound.
    if (this.sensors.size >= MAX_SENSORS) {
      const oldest = this.sensors.keys().next().value;
      if (oldest !== undefined) this.sensors.delete(oldest);
    }
  }
}

function sensorKey(principal: Principal, property: QuotaProperty): string {
  return `${property} ${principalText(principal)}`;
}
