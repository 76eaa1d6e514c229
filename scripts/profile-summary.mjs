#!/usr/bin/env node
// Summarizes a V8 .cpuprofile: self time by function (top N) and by file. Usage: profile-summary.mjs FILE [N]
import { readFileSync } from 'node:fs';
const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const top = Number(process.argv[3] ?? 40);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const fn = new Map();
const file = new Map();
let total = 0;
for (const [id, t] of self) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const url = cf.url.replace(/^file:\/\/.*?\/(node_modules|dist|src)\//, '$1/');
  const key = `${cf.functionName || '(anon)'} ${url}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + t);
  const f = url.startsWith('node_modules/')
    ? url
        .split('/')
        .slice(0, url.includes('/@') ? 3 : 2)
        .join('/')
    : url || cf.functionName;
  file.set(f, (file.get(f) ?? 0) + t);
  total += t;
}
const pct = (t) => ((100 * t) / total).toFixed(1).padStart(5) + '%';
console.log('self time by function');
for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(t), k);
console.log('\nself time by file/package');
for (const [k, t] of [...file].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(pct(t), k);
