/**
 * The test renderer behaves like Go's text/template and Sprig where Helm charts usually break, so
 * a chart that renders here does not fail in Helm for those reasons (gotemplate*.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTemplate } from './gotemplate-parse.js';
import { createTemplate, goFloat } from './gotemplate.js';

function render(src: string, dot: unknown = {}, defs = ''): string {
  const main = parseTemplate(src, 'main');
  const t = createTemplate([main, parseTemplate(defs, 'defs')]);
  return t.execute(main.nodes, dot);
}

describe('test renderer (Go text/template + Sprig subset)', () => {
  it('trims whitespace at {{- and -}} only', () => {
    assert.equal(render('a  {{- "b" -}}  \n c'), 'abc');
    assert.equal(render('a {{ "b" }} c'), 'a b c');
    assert.equal(render('x\n{{- /* a comment */}}\ny'), 'x\ny');
  });

  it('prints float64 values the Go way and integers as integers', () => {
    assert.deepEqual([1209600, 8080, 0.5, 1e-5, 100000].map(goFloat), ['1.2096e+06', '8080', '0.5', '1e-05', '100000']);
    assert.equal(render('{{ .n }} {{ int64 .n }} {{ .n | quote }}', { n: 1000000 }), '1e+06 1000000 "1e+06"');
  });

  it('refuses to compare a values number with an integer literal, as Go does', () => {
    assert.throws(() => render('{{ if gt .n 1 }}x{{ end }}', { n: 2 }), /incompatible types for comparison/);
    assert.equal(render('{{ if gt (int64 .n) 1 }}x{{ end }}', { n: 2 }), 'x');
    assert.equal(render('{{ eq .missing "a" }}', {}), 'false');
  });

  it("Sprig's default treats false as empty; required fails on nil and empty strings", () => {
    assert.equal(render('{{ default true .v }}', { v: false }), 'true');
    assert.throws(() => render('{{ required "need v" .v }}', {}), /need v/);
    assert.throws(() => render('{{ required "need v" .v }}', { v: '' }), /need v/);
    assert.equal(render('{{ required "need v" .v }}', { v: false }), 'false');
  });

  it('a missing key is nil, a field of nil an error', () => {
    assert.equal(render('[{{ .a.b }}]', { a: {} }), '[]');
    assert.throws(() => render('{{ .a.b.c }}', { a: {} }), /nil pointer evaluating interface \{\}\.c/);
  });

  it('ranges over maps in key order, with variables scoped to their block', () => {
    assert.equal(render('{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } }), 'a=1;b=2;');
    assert.equal(render('{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}'), '2');
    assert.throws(() => render('{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}'), /undefined variable: \$y/);
  });

  it('and/or short-circuit and return an argument', () => {
    assert.equal(render('{{ or .a "fallback" }}', { a: '' }), 'fallback');
    assert.equal(render('{{ and .a .a.b }}', { a: null }), '');
  });

  it('include, nindent and toYaml compose like in Helm', () => {
    const defs = '{{- define "labels" -}}\napp: {{ .name }}\n{{- end -}}';
    assert.equal(render('metadata:\n  labels:\n    {{- include "labels" . | nindent 4 }}', { name: 'x' }, defs), 'metadata:\n  labels:\n    app: x');
    assert.equal(render('{{ toYaml .v }}', { v: { b: [1], a: 'x' } }), 'a: x\nb:\n- 1');
  });

  it('rejects what it cannot render: unknown functions, unbalanced blocks, template actions', () => {
    assert.throws(() => render('{{ tpl "x" . }}'), /function "tpl" not defined/);
    assert.throws(() => render('{{ if true }}x'), /if without end/);
    assert.throws(() => render('x{{ end }}'), /end without a block/);
    assert.throws(() => render('{{ template "x" . }}'), /not supported/);
    assert.throws(() => render('{{ .a }'), /unclosed action/);
  });
});
