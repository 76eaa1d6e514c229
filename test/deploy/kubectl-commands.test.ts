/**
 * Every `kubectl exec` the docs and the chart's NOTES show works on what the chart installs: it
 * names the workload the chart renders (a StatefulSet for the default SQLite store, a Deployment for
 * Redis) by its rendered name, and runs `oidc-judge` — on the image's PATH (dockerfile.test.ts) —
 * with a command and arguments the CLI accepts. Regression: the README showed
 * `kubectl exec deploy/oidc-judge -- oidc-judge sessions revoke`, which failed twice.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseArgs } from '../../src/cli-args.js';
import { projectRoot } from '../../src/paths.js';
import { renderChart, type Rendered } from './chart.js';

interface Exec {
  readonly where: string;
  readonly target: string;
  readonly argv: string[];
  /** The line says it is for `store.type=redis`. */
  readonly redis: boolean;
}

const KINDS: Readonly<Record<string, string>> = {
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  'statefulset.apps': 'StatefulSet',
  deployment: 'Deployment',
  deploy: 'Deployment',
  'deployment.apps': 'Deployment',
};

/** `kubectl … exec <kind>/<name> -- <command …>` lines of a text. */
function execs(text: string, where: string): Exec[] {
  const out: Exec[] = [];
  for (const line of text.split('\n')) {
    const m = /kubectl(?:\s+-n\s+\S+)?\s+exec\s+(?:-n\s+\S+\s+)?(\S+)\s+--\s+([^`#\n]+?)\s*(?:`|#.*)?$/.exec(line);
    if (m) out.push({ where, target: m[1]!, argv: m[2]!.split(/\s+/), redis: /redis/.test(line) });
  }
  return out;
}

/** What `helm install` needs besides the chart's defaults. */
const required = { config: { OIDC_PROVIDER: 'https://idp.example.com', CLIENT_ID: 'app' }, secret: { values: { CLIENT_SECRET: 's3cret' } } };
const redisStore = { ...required, store: { type: 'redis' }, config: { ...required.config, SESSION_STORE_REDIS_ADDR: 'redis:6379' } };

/** README.md and every Markdown file under the folders users read (helm/, istio/, examples/, docs/). */
function docs(): string[] {
  const under = (dir: string): string[] =>
    existsSync(join(projectRoot, dir))
      ? readdirSync(join(projectRoot, dir), { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? under(`${dir}/${e.name}`) : e.name.endsWith('.md') ? [`${dir}/${e.name}`] : [],
        )
      : [];
  return ['README.md', ...['helm', 'istio', 'examples', 'docs'].flatMap(under)];
}

function check(e: Exec, rendered: Rendered): void {
  const workload = rendered.manifests.find((m) => m.doc['kind'] === 'StatefulSet' || m.doc['kind'] === 'Deployment');
  assert.ok(workload, 'the chart renders a workload');
  const [kind, name] = e.target.split('/');
  assert.equal(KINDS[kind!.toLowerCase()], workload.doc['kind'], `${e.where}: ${e.target} (the chart installs a ${String(workload.doc['kind'])})`);
  assert.equal(name, (workload.doc['metadata'] as Record<string, unknown>)['name'], `${e.where}: ${e.target}`);
  assert.equal(e.argv[0], 'oidc-judge', `${e.where}: runs the oidc-judge on PATH, not a path into the image`);
  const args = parseArgs(e.argv.slice(1).map((a) => a.replace(/^<.*>$/, 'x').replace(/…$/, 'x')));
  assert.deepEqual(args.errors, [], `${e.where}: ${e.argv.join(' ')}`);
}

describe('kubectl commands shown to users', () => {
  it('the docs name the workload the chart installs and a command the image has', () => {
    const all = docs().flatMap((f) => execs(readFileSync(join(projectRoot, f), 'utf8'), f));
    assert.ok(all.length >= 3, `found ${all.length} kubectl exec lines`);
    assert.ok(
      all.some((e) => e.argv.slice(0, 3).join(' ') === 'oidc-judge sessions revoke'),
      'the README shows how to revoke sessions in Kubernetes',
    );
    const sqlite = renderChart(required);
    const redis = renderChart(redisStore);
    for (const e of all) check(e, e.redis ? redis : sqlite);
  });

  it("the chart's notes do too, for either store", () => {
    for (const values of [required, redisStore]) {
      const rendered = renderChart(values, { releaseName: 'judge', namespace: 'auth' });
      const found = execs(rendered.notes, 'NOTES.txt');
      assert.ok(found.length >= 2, 'check-config and sessions revoke');
      for (const e of found) check(e, rendered);
    }
  });
});
