/** Running totals per topic since start-up; what the metrics layer exposes. */
export interface TopicTraffic {
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  bytesOut: number;
}

/**
 * Every topic's traffic totals, counted in place on the hot paths (one map lookup per produce or
 * delivery, no allocation after a topic's first). A deleted topic's totals go with it.
 */
export class TopicTrafficTotals {
  private readonly totals = new Map<string, TopicTraffic>();

  /** The totals of `topic`, created at zero on first use; callers add to them. */
  of(topic: string): TopicTraffic {
    let t = this.totals.get(topic);
    if (!t) {
      t = { recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 };
      this.totals.set(topic, t);
    }
    return t;
  }

  forget(topic: string): void {
    this.totals.delete(topic);
  }

  /** The live map, read at scrape time. */
  get all(): ReadonlyMap<string, Readonly<TopicTraffic>> {
    return this.totals;
  }
}
