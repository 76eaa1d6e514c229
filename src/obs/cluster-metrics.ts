/**
 * `/metrics` under `--workers`: each cluster worker keeps its own prom-client registry, and cluster
 * hands a scrape of the shared health port to one worker. So a worker does not answer a scrape from
 * its own registry: it asks the primary, which asks every serving worker for its registry as JSON
 * (waiting at most `timeoutMs` for each, in parallel; a worker that does not answer is left out and
 * the answer still comes), merges them with prom-client's `AggregatorRegistry.aggregate` (each
 * metric by its own `aggregator`: counters and histograms are summed), adds how many workers were
 * asked and how many reported, and sends the text back to the asking worker.
 *
 * Messages, all objects whose `type` starts with `oidc-judge:` (anything else is ignored):
 *   worker → primary   `oidc-judge:metrics-request` {id}           a scrape wants the group's metrics
 *   primary → worker   `oidc-judge:metrics-collect` {id}           send your registry
 *   worker → primary   `oidc-judge:metrics-report`  {id, metrics}  (or {id, error})
 *   primary → worker   `oidc-judge:metrics-answer`  {id, text}     (or {id, error})
 * Ids are per sender: a worker numbers its requests, the primary its collections.
 */
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Gauge, type PrometheusContentType, type Registry } from 'prom-client';

/** One registry's metrics, as `registry.getMetricsAsJSON()` gives them. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

const REQUEST = 'oidc-judge:metrics-request';
const COLLECT = 'oidc-judge:metrics-collect';
const REPORT = 'oidc-judge:metrics-report';
const ANSWER = 'oidc-judge:metrics-answer';

type Message = Readonly<Record<string, unknown>> & { readonly id: number };

/** `m` when it is a message of this type with an id; undefined for anything else. */
function messageOf(m: unknown, type: string): Message | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const o = m as Record<string, unknown>;
  return o['type'] === type && typeof o['id'] === 'number' ? (o as Message) : undefined;
}

/**
 * The workers' registries merged into one exposition text, with `oidc_judge_workers` (workers
 * asked) and `oidc_judge_workers_reporting` (workers included: fewer when one did not answer).
 */
export function mergeMetrics(reports: readonly MetricsJson[], asked: number): Promise<string> {
  const merged = AggregatorRegistry.aggregate<PrometheusContentType>([...reports]);
  new Gauge({ name: 'oidc_judge_workers', help: 'Serving cluster workers asked for their metrics by this scrape.', registers: [merged] }).set(asked);
  new Gauge({
    name: 'oidc_judge_workers_reporting',
    help: 'Cluster workers whose metrics this scrape includes (below oidc_judge_workers: a worker did not answer in time).',
    registers: [merged],
  }).set(reports.length);
  return merged.metrics();
}

export interface WorkerMetrics {
  /** The whole group's metrics as exposition text: what the worker's `/metrics` answers. */
  text(): Promise<string>;
  /** Stops answering the primary; pending `text()` calls fail. */
  close(): void;
}

/**
 * In a cluster worker: answers the primary's collections from `registry`, and gets the group's
 * metrics from the primary. `text()` fails when the primary does not answer within `timeoutMs`.
 */
export function workerMetrics(registry: Registry, opts: { readonly timeoutMs?: number } = {}): WorkerMetrics {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const pending = new Map<number, { readonly resolve: (text: string) => void; readonly reject: (e: Error) => void; readonly timer: NodeJS.Timeout }>();
  let next = 0;
  const send = (m: object, onError: (e: Error) => void = () => undefined): void => {
    if (process.send === undefined) return onError(new Error('no channel to the cluster primary'));
    process.send(m, undefined, undefined, (e) => {
      if (e) onError(e);
    });
  };
  const fail = (id: number, e: Error): void => {
    const p = pending.get(id);
    if (p === undefined) return;
    pending.delete(id);
    clearTimeout(p.timer);
    p.reject(e);
  };
  const onMessage = (m: unknown): void => {
    const collect = messageOf(m, COLLECT);
    if (collect !== undefined) {
      registry.getMetricsAsJSON().then(
        (metrics) => send({ type: REPORT, id: collect.id, metrics }),
        (e: unknown) => send({ type: REPORT, id: collect.id, error: (e as Error).message }),
      );
      return;
    }
    const answer = messageOf(m, ANSWER);
    if (answer === undefined) return;
    const p = pending.get(answer.id);
    if (p === undefined) return;
    if (typeof answer['text'] !== 'string') return fail(answer.id, new Error(`the cluster primary could not merge the metrics: ${String(answer['error'])}`));
    pending.delete(answer.id);
    clearTimeout(p.timer);
    p.resolve(answer['text']);
  };
  process.on('message', onMessage);
  return {
    text: () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => fail(id, new Error(`the cluster primary did not answer within ${timeoutMs} ms`)), timeoutMs);
        pending.set(id, { resolve, reject, timer });
        send({ type: REQUEST, id }, (e) => fail(id, e));
      }),
    close() {
      process.removeListener('message', onMessage);
      for (const id of [...pending.keys()]) fail(id, new Error('stopped'));
    },
  };
}

export interface MetricsHub {
  /** A newly forked worker: its scrapes are answered from now on, and it is forgotten when it exits. */
  attach(worker: Worker): void;
  /** The worker is serving: scrapes include its metrics from now on. */
  ready(worker: Worker): void;
}

/** In the cluster primary: answers the workers' requests for the group's metrics. */
export function metricsHub(opts: { readonly timeoutMs?: number } = {}): MetricsHub {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const serving = new Set<Worker>();
  /** Collections under way, by id: the worker asked, and how to end the wait (undefined: left out). */
  const waiting = new Map<number, { readonly worker: Worker; readonly settle: (m: MetricsJson | undefined) => void }>();
  let next = 0;

  const collectFrom = (worker: Worker): Promise<MetricsJson | undefined> =>
    new Promise((resolve) => {
      const id = next++;
      let timer: NodeJS.Timeout | undefined;
      const settle = (m: MetricsJson | undefined): void => {
        if (!waiting.delete(id)) return;
        clearTimeout(timer);
        resolve(m);
      };
      waiting.set(id, { worker, settle });
      timer = setTimeout(() => settle(undefined), timeoutMs);
      worker.send({ type: COLLECT, id }, undefined, undefined, (e) => {
        if (e) settle(undefined);
      });
    });

  const answer = async (asker: Worker, id: number): Promise<void> => {
    const asked = [...serving].filter((w) => w.isConnected());
    const reports = (await Promise.all(asked.map(collectFrom))).filter((r) => r !== undefined);
    let reply: object;
    try {
      reply = { type: ANSWER, id, text: await mergeMetrics(reports, asked.length) };
    } catch (e) {
      reply = { type: ANSWER, id, error: (e as Error).message };
    }
    if (asker.isConnected()) asker.send(reply, undefined, undefined, () => undefined);
  };

  return {
    attach(worker) {
      worker.on('message', (m: unknown) => {
        const request = messageOf(m, REQUEST);
        if (request !== undefined) return void answer(worker, request.id);
        const report = messageOf(m, REPORT);
        if (report === undefined) return;
        const w = waiting.get(report.id);
        if (w?.worker === worker) w.settle(Array.isArray(report['metrics']) ? (report['metrics'] as MetricsJson) : undefined);
      });
      worker.once('exit', () => {
        serving.delete(worker);
        for (const w of waiting.values()) if (w.worker === worker) w.settle(undefined);
      });
    },
    ready(worker) {
      serving.add(worker);
    },
  };
}
