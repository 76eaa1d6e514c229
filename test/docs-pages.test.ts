/**
 * The documentation a team follows (README.md and docs/**) stays true to the repository:
 * every relative link leads to a file that exists, and an `#anchor` to a heading of that file
 * (GitHub's slug rules); every setting named in backticks is one the schema knows (or one of the
 * few non-setting names listed below); every shell block marked runnable runs and exits 0.
 *
 * Runnable blocks: a fenced block whose info string is `sh runnable` or `bash runnable`. It runs
 * with `bash -euo pipefail` in a fresh temporary directory, with a clean environment (PATH and
 * HOME only) and `oidc-judge` on PATH (the built CLI, `node dist/src/cli.js`). Mark only blocks that
 * need no network, no server left running and nothing outside the temporary directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { knownNames } from '../src/config/unknown-env.js';
import type { Field } from '../src/config/field.js';
import { forwardSchemas } from '../src/config/forward-schema.js';
import { schema } from '../src/config/schema.js';
import { projectRoot } from '../src/paths.js';
import { docPages, readPage } from './helpers/doc-pages.js';

/** Upper-case names the docs mention that are not our settings: standard or other tools' variables, metrics, codes. */
const NOT_SETTINGS: readonly RegExp[] = [
  /^OTEL_/, // OpenTelemetry's standard variables, read by the tracing set-up
  /^OAUTH2_PROXY_/, // oauth2-proxy's variables, read by `oidc-judge oauth2-proxy`
  /^OIDC_JUDGE_(SERVICE|PORT)_/, // what Kubernetes injects for a Service named oidc-judge
  /^PILOT_JWT_PUB_KEY_REFRESH_INTERVAL$/, // istiod's own variable
  /^BENCH_PROFILE$/, // npm run bench
  /^(HTTP|HTTPS|NO)_PROXY$/,
  /^NODE_/, // Node.js's own
  /^KUBERNETES_SERVICE_(HOST|PORT)$/, // in-cluster discovery of the API server
  /^SOAK_SECONDS$/, // npm run soak
  /^NO_COLOR$/,
  /^(PERMISSION_DENIED|RESOURCE_EXHAUSTED|NOT_SERVING|UNAVAILABLE|UNAUTHENTICATED|DEADLINE_EXCEEDED|INVALID_ARGUMENT)$/, // gRPC codes
  /^(DECODE_AND_MERGE_SLASHES|MERGE_SLASHES|UNESCAPE_AND_REDIRECT|CUSTOM|ALLOW|DENY)$/, // Istio and Envoy enum values
];

/** Every name a variable of ours is read by: the judge's schema and the forwarder commands'. */
const SETTINGS = knownNames([...(Object.values(schema) as Field<unknown>[]), ...forwardSchemas.flatMap((s) => Object.values(s))]);

/** Text outside fenced code blocks, with inline code spans kept (links inside them are not links). */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
}

/** GitHub's heading anchor: lower case, punctuation dropped (not `-` or `_`), spaces to dashes. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links keep their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a page's headings get, with GitHub's `-1`, `-2` … for repeats. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/<a (?:name|id)="([^"]+)"/g)) out.add(m[1]!);
  return out;
}

/** `[text](target)` links of a page (outside code), as [target, line]. */
function links(text: string): [string, number][] {
  const body = prose(text).replace(/`[^`\n]*`/g, (s) => ' '.repeat(s.length));
  return [...body.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => [m[1]!, body.slice(0, m.index).split('\n').length]);
}

/** Broken relative links of `page`, each as `page:line → target (why)`. */
function brokenLinks(page: string, text: string): string[] {
  const broken: string[] = [];
  for (const [target, line] of links(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …
    const [path = '', anchor] = target.split('#', 2);
    const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
    const where = `${page}:${line} → ${target}`;
    if (file.startsWith('..')) {
      broken.push(`${where} (outside the repository)`);
      continue;
    }
    if (!existsSync(join(projectRoot, file))) {
      broken.push(`${where} (no such file)`);
      continue;
    }
    if (anchor === undefined || anchor === '') continue;
    if (statSync(join(projectRoot, file)).isDirectory() || !file.endsWith('.md')) {
      broken.push(`${where} (an anchor into a file that is not Markdown)`);
      continue;
    }
    if (!anchors(readFileSync(join(projectRoot, file), 'utf8')).has(anchor)) broken.push(`${where} (no heading with that anchor)`);
  }
  return broken;
}

/**
 * UPPER_SNAKE names that are neither settings nor listed non-settings: in backticks (`NAME` or
 * `NAME=value`), and assigned (`NAME=…`, also `-e NAME=…`) in shell and env code blocks.
 */
function unknownSettings(text: string): string[] {
  const names = new Set([...text.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=[^`]*)?`/g)].map((m) => m[1]!));
  for (const block of text.matchAll(/^([ \t]*)```(?:sh|bash|env|shell|console)\b[^\n]*\n([\s\S]*?)^\1```/gm)) {
    for (const m of block[2]!.matchAll(/(?:^|[\s'"])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=/gm)) names.add(m[1]!);
  }
  return [...names].filter((n) => !SETTINGS.has(n) && !NOT_SETTINGS.some((re) => re.test(n)));
}

/** The runnable shell blocks of a page (also indented, inside a list item), dedented, as [script, line of the opening fence]. */
function runnableBlocks(text: string): [string, number][] {
  return [...text.matchAll(/^([ \t]*)```(?:sh|bash) runnable[ \t]*\n([\s\S]*?)^\1```[ \t]*$/gm)].map((m) => [
    m[2]!
      .split('\n')
      .map((l) => (l.startsWith(m[1]!) ? l.slice(m[1]!.length) : l))
      .join('\n'),
    text.slice(0, m.index).split('\n').length,
  ]);
}

/**
 * Problems of a Mermaid sequence diagram that GitHub would refuse to draw or draw wrongly: another
 * diagram type, a message between undeclared participants, an unclosed or stray `alt`/`opt`/`loop`
 * block, a `;` (a statement separator) inside a message.
 */
export function sequenceProblems(diagram: string): string[] {
  const lines = diagram
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('%%'));
  if (lines[0] !== 'sequenceDiagram') return [`starts with ${JSON.stringify(lines[0])}, not sequenceDiagram`];
  const problems: string[] = [];
  const declared = new Set<string>();
  let depth = 0;
  for (const line of lines.slice(1)) {
    const participant = /^(?:participant|actor)\s+(\S+)(?:\s+as\s+.+)?$/.exec(line);
    const message = /^(\S+?)\s*(?:-{1,2}>>|-{1,2}>|-{1,2}x|-{1,2}\))\s*(\S+?)\s*:\s*(.*)$/.exec(line);
    if (participant) declared.add(participant[1]!);
    else if (message) {
      for (const who of [message[1]!, message[2]!]) if (!declared.has(who)) problems.push(`undeclared participant ${who}: ${line}`);
      if (message[3]!.includes(';')) problems.push(`a ; splits the message: ${line}`);
    } else if (/^(alt|opt|loop|par|critical|rect)\b/.test(line)) depth++;
    else if (/^(else|and|option)\b/.test(line)) {
      if (depth === 0) problems.push(`${line} outside a block`);
    } else if (line === 'end') {
      if (--depth < 0) problems.push('an end without a block');
    } else if (!/^(note|autonumber|activate|deactivate)\b/i.test(line)) problems.push(`not a sequence diagram statement: ${line}`);
  }
  if (depth > 0) problems.push(`${depth} block(s) not closed`);
  return problems;
}

describe('documentation pages', () => {
  const pages = docPages().map((p): [string, string] => [p, readPage(p)]);

  it('finds the README and the docs/ pages', () => {
    const names = pages.map(([p]) => p);
    for (const p of ['README.md', 'docs/getting-started.md', 'docs/configuration.md', 'docs/troubleshooting.md']) assert.ok(names.includes(p), p);
  });

  it('slugs headings as GitHub does', () => {
    assert.equal(slug('Compatibility with oauth2-proxy'), 'compatibility-with-oauth2-proxy');
    assert.equal(slug('Egress: add a token, then proxy'), 'egress-add-a-token-then-proxy');
    assert.equal(slug('Conditions: `sources` and `when` (CEL)'), 'conditions-sources-and-when-cel');
    assert.equal(slug('Entra ID: groups that did not fit in the token'), 'entra-id-groups-that-did-not-fit-in-the-token');
    assert.equal(slug('`SESSION_SAME_SITE` and [links](x.md)'), 'session_same_site-and-links');
    assert.deepEqual([...anchors('# A\n## A\n```\n# not a heading\n```\n### A\n')], ['a', 'a-1', 'a-2']);
  });

  it('every relative link leads to a file that exists, and every #anchor to a heading of it', () => {
    assert.deepEqual(
      pages.flatMap(([p, text]) => brokenLinks(p, text)),
      [],
    );
  });

  it('catches a broken link and a broken anchor', () => {
    const text = '[a](docs/nowhere.md) [b](docs/configuration.md#no-such-heading) [c](docs/configuration.md) `[d](x.md)`';
    assert.equal(brokenLinks('README.md', text).length, 2);
  });

  it('every setting named in backticks exists in the schema (or is listed as a non-setting)', () => {
    const unknown = pages.flatMap(([p, text]) => unknownSettings(text).map((n) => `${p}: ${n}`));
    assert.deepEqual(unknown, [], 'named in the docs but no setting: fix the name, or list it in NOT_SETTINGS if it is not ours');
    assert.deepEqual(unknownSettings('`SESSION_SAME_SITE=Lax` `OTEL_SERVICE_NAME` `SESSION_COOKIE_SAMESITE`'), ['SESSION_COOKIE_SAMESITE']);
    assert.deepEqual(unknownSettings('```sh\nOIDC_PROVIDER=x SESION_STORE_PATH=./s.db npm start\ndocker run -e CLIENT_ID=a -e CLIENT_SECERT=b\n```\n'), [
      'SESION_STORE_PATH',
      'CLIENT_SECERT',
    ]);
  });

  it('every shell block marked runnable runs in a temporary directory and exits 0', () => {
    const blocks = pages.flatMap(([p, text]) => runnableBlocks(text).map(([script, line]): [string, string] => [`${p}:${line}`, script]));
    assert.ok(blocks.length >= 3, `found ${blocks.length} runnable blocks`);
    const bin = mkdtempSync(join(tmpdir(), 'docs-bin-'));
    try {
      const shim = join(bin, 'oidc-judge');
      writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(projectRoot, 'dist', 'src', 'cli.js')}" "$@"\n`);
      chmodSync(shim, 0o755);
      for (const [where, script] of blocks) {
        const dir = mkdtempSync(join(tmpdir(), 'docs-run-'));
        try {
          const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
            cwd: dir,
            env: { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir, PROJECT_ROOT: projectRoot },
            encoding: 'utf8',
            timeout: 60_000,
          });
          assert.equal(r.status, 0, `${where} exited ${String(r.status)}:\n${script}\n${r.stdout}\n${r.stderr}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('links every docs/ page from the README map', () => {
    const readme = readPage('README.md');
    const linked = new Set(links(readme).map(([t]) => t.split('#')[0]));
    assert.deepEqual(
      docPages().filter((p) => p !== 'README.md' && !linked.has(p)),
      [],
      'pages the README does not link',
    );
  });

  it('draws every Mermaid diagram as a well-formed sequence diagram', () => {
    const diagrams = pages.flatMap(([p, text]) => [...text.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m): [string, string] => [p, m[1]!]));
    assert.ok(diagrams.length >= 4, `found ${diagrams.length} diagrams`);
    assert.deepEqual(
      diagrams.flatMap(([p, d]) => sequenceProblems(d).map((x) => `${p}: ${x}`)),
      [],
    );
    assert.deepEqual(sequenceProblems('sequenceDiagram\nparticipant A\nA->>B: x; y\nalt ok\nA-->>A: z\n'), [
      'undeclared participant B: A->>B: x; y',
      'a ; splits the message: A->>B: x; y',
      '1 block(s) not closed',
    ]);
  });

  it('catches a runnable block that fails', () => {
    const [[script]] = runnableBlocks('```sh runnable\nexit 3\n```\n') as [[string, number]];
    assert.equal(spawnSync('bash', ['-euo', 'pipefail', '-c', script]).status, 3);
    const [[inList]] = runnableBlocks('1. step\n\n   ```sh runnable\n   cat <<EOF\n   x\n   EOF\n   ```\n') as [[string, number]];
    assert.equal(inList, 'cat <<EOF\nx\nEOF\n');
  });
});
