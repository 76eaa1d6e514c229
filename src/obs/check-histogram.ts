/**
 * `oidc_judge_check_duration_seconds`: the time to decide one check, as a Prometheus histogram by
 * front door, counted in plain arrays. prom-client's Histogram turns the labels into an object,
 * validates and hashes it on every observation — more work than the judge's own cached checks —
 * so this one only finds the bucket and adds. It sits in the prom-client registry like any metric:
 * scraped, it gives its values in the shape prom-client's own histograms give them (cumulative
 * `_bucket` series with `le` first, then `_sum` and `_count`).
 */
import type { Histogram, Registry } from 'prom-client';

/** What prom-client's registry reads from a metric (`get()`). */
export interface ExportedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly aggregator: 'sum';
  readonly values: { readonly labels: Readonly<Record<string, string | number>>; readonly value: number; readonly metricName: string }[];
}

interface Series {
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

export class CheckDurationHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(opts: { name: string; help: string; buckets: readonly number[]; registry: Registry }) {
    this.name = opts.name;
    this.help = opts.help;
    this.#bounds = [...opts.buckets].sort((a, b) => a - b);
    opts.registry.registerMetric(this as unknown as Histogram);
  }

  observe(via: string, seconds: number): void {
    let s = this.#series.get(via);
    if (s === undefined) this.#series.set(via, (s = { counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 }));
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }

  get(): Promise<ExportedMetric> {
    const values: ExportedMetric['values'] = [];
    for (const [via, s] of this.#series) {
      let acc = 0;
      this.#bounds.forEach((le, i) => {
        acc += s.counts[i]!;
        values.push({ labels: { le, via }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', via }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { via }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { via }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    this.#series.clear();
  }
}
