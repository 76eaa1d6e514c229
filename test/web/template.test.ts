import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadTemplateSet, resolveUrlRef, TemplateError, templateSetOf, type FieldSchema } from '../../src/web/template.js';

const FIELDS: FieldSchema = {
  ProviderURL: 'value',
  ClientName: 'value',
  ThemeURL: 'value',
  Frontend: 'map',
  X: 'value',
  Y: 'value',
  List: 'value',
  Action: { Href: 'value', Label: 'value' },
};

const CTX = {
  ProviderURL: 'https://gitlab.example.com',
  ClientName: 'Kubeflow',
  ThemeURL: '/authservice/site/themes/kubeflow',
  Frontend: { KEY: 'value-of-key', EMPTY: '' },
};

/** Renders `src` as `page.html` (plus any other named sources) with `ctx`. */
function render(src: string, ctx: unknown = CTX, more: Record<string, string> = {}): string {
  const sources = new Map(Object.entries({ 'page.html': src, ...more }).map(([name, s]) => [name, { file: `/t/${name}`, src: s }]));
  return templateSetOf(sources, FIELDS).render('page.html', ctx);
}

/** The TemplateError `src` raises, as `file:line: message`. */
function compileError(src: string, more: Record<string, string> = {}): TemplateError {
  try {
    render(src, CTX, more);
  } catch (err) {
    assert.ok(err instanceof TemplateError, `expected a TemplateError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a compile error');
}

describe('template syntax', () => {
  it('prints fields, nested fields, index and string literals', () => {
    assert.equal(render('Hi {{ .ClientName }}!'), 'Hi Kubeflow!');
    assert.equal(render('{{.ClientName}}'), 'Kubeflow');
    assert.equal(render('{{ .Action.Label }}', { Action: { Label: 'Go' } }), 'Go');
    assert.equal(render('{{ index .Frontend "KEY" }}'), 'value-of-key');
    assert.equal(render('{{ .Frontend.KEY }}'), 'value-of-key');
    assert.equal(render('{{ "a literal" }} {{ `raw \\n` }} {{ "esc\\"aped" }}'), 'a literal raw \\n esc&#34;aped');
    assert.equal(render('{{ index .Frontend (index .Frontend "PICK") }}', { Frontend: { PICK: 'KEY', KEY: 'picked' } }), 'picked');
  });

  it('renders missing fields, map keys and prototype names as empty', () => {
    assert.equal(render('[{{ .ClientName }}][{{ index .Frontend "NOPE" }}][{{ .Action.Href }}]', {}), '[][][]');
    assert.equal(render('[{{ index .Frontend "constructor" }}][{{ index .Frontend "__proto__" }}][{{ .Frontend.toString }}]'), '[][][]');
    assert.equal(render('[{{ .ClientName }}]', { ClientName: { toString: () => 'x' } }), '[]');
    assert.equal(render('[{{ .X }}][{{ .Y }}]', { X: 42, Y: false }), '[42][false]');
  });

  it('drops comments and applies trim markers', () => {
    assert.equal(render('a {{/* a comment with }} inside */}} b'), 'a  b');
    assert.equal(render('a \n {{- /* trimmed */ -}} \n b'), 'ab');
    assert.equal(render('a   {{- .ClientName -}}   b'), 'aKubeflowb');
    assert.equal(render('a {{- .ClientName }} b'), 'aKubeflow b');
    assert.equal(render('<p>\n  {{- if .X }}\n  yes\n  {{- end }}\n</p>', { X: 'y' }), '<p>\n  yes\n</p>');
  });

  it('if / else if / else / end with Go truthiness', () => {
    const t = '{{ if .X }}x{{ else if .Y }}y{{ else }}none{{ end }}';
    assert.equal(render(t, { X: 'a' }), 'x');
    assert.equal(render(t, { Y: 1 }), 'y');
    for (const falsy of ['', 0, false, [], {}, null, undefined]) assert.equal(render(t, { X: falsy }), 'none', `X=${JSON.stringify(falsy)}`);
    assert.equal(render('{{ if .List }}has{{ end }}', { List: ['a'] }), 'has');
    assert.equal(render('{{ if index .Frontend "KEY" }}k{{ end }}{{ if index .Frontend "EMPTY" }}e{{ end }}'), 'k');
    assert.equal(render('{{ if .X }}{{ if .Y }}both{{ else }}x only{{ end }}{{ end }}', { X: 1 }), 'x only');
  });

  it('includes other templates with the given context, or none', () => {
    const more = { 'title.html': '<b>{{ .ClientName }}</b>' };
    assert.equal(render('{{ template "title.html" . }}!', CTX, more), '<b>Kubeflow</b>!');
    assert.equal(render('{{ template "title.html" }}!', CTX, more), '<b></b>!');
    assert.equal(render('{{ template "title.html" .Action }}!', { Action: { Label: 'x' } }, more), '<b></b>!');
  });

  it('resolve_url_ref resolves a reference against a base URL', () => {
    assert.equal(render('{{ resolve_url_ref .ProviderURL "/users/sign_out" }}'), 'https://gitlab.example.com/users/sign_out');
    assert.equal(resolveUrlRef('https://idp.example/realms/x/', 'logout?a=1'), 'https://idp.example/realms/x/logout?a=1');
    assert.equal(resolveUrlRef('https://idp.example/a', 'https://other.example/b'), 'https://other.example/b');
    assert.equal(resolveUrlRef('/authservice/', 'site/homepage'), '/authservice/site/homepage');
    assert.equal(resolveUrlRef('', '/x'), '/x');
  });
});

describe('template escaping', () => {
  const hostile = `<script>alert('x')</script> & "q" \`b\``;

  it('escapes & < > " \' ` in text and quoted attributes', () => {
    assert.equal(render('<p>{{ .X }}</p>', { X: hostile }), '<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;q&#34; &#96;b&#96;</p>');
    assert.equal(render('<input value="{{ .X }}">', { X: '"><script>' }), '<input value="&#34;&gt;&lt;script&gt;">');
    assert.equal(render("<input value='{{ .X }}'>", { X: "'x" }), "<input value='&#39;x'>");
    assert.equal(render('<title>{{ .X }}</title>', { X: '</title><script>' }), '<title>&lt;/title&gt;&lt;script&gt;</title>');
  });

  it('escapes spaces and = in unquoted attributes', () => {
    assert.equal(render('<p title={{ .X }}>', { X: 'a b=c onclick=x' }), '<p title=a&#32;b&#61;c&#32;onclick&#61;x>');
  });

  it('turns unsafe URL schemes in href/src/action into #ZgotmplZ', () => {
    for (const bad of ['javascript:alert(1)', 'JavaScript:alert(1)', ' javascript:x', 'data:text/html,<b>', 'vbscript:x', 'java\tscript:x']) {
      assert.equal(render('<a href="{{ .X }}">', { X: bad }), '<a href="#ZgotmplZ">', bad);
    }
    assert.equal(render('<img src="{{ .X }}">', { X: 'javascript:x' }), '<img src="#ZgotmplZ">');
    assert.equal(render('<form action="{{ .X }}">', { X: 'javascript:x' }), '<form action="#ZgotmplZ">');
    assert.equal(render('<a href={{ .X }}>', { X: 'javascript:x' }), '<a href=#ZgotmplZ>');
    assert.equal(render('<a href="java{{ .X }}">', { X: 'script:alert(1)' }), '<a href="java#ZgotmplZ">');
  });

  it('keeps http, https, mailto and relative URLs, percent-encoding what does not belong in a URL', () => {
    for (const ok of ['https://idp.example/a?b=c&d=e', 'http://x', 'mailto:ops@example.com', '/relative/path', 'page.html', '#frag', '?q=1']) {
      assert.equal(render('<a href="{{ .X }}">', { X: ok }), `<a href="${ok.replace(/&/g, '&amp;')}">`, ok);
    }
    assert.equal(render('<a href="{{ .X }}">', { X: '/a b/"c"/<d>/%41/é' }), '<a href="/a%20b/%22c%22/%3cd%3e/%41/%c3%a9">');
    assert.equal(render('<a href="/search?q={{ .X }}">', { X: 'a&b=c d' }), '<a href="/search?q=a%26b%3dc%20d">');
    assert.equal(render('<a href="{{ .ThemeURL }}/logo.svg">'), '<a href="/authservice/site/themes/kubeflow/logo.svg">');
    assert.equal(render('<a href="{{ .X }}{{ .Y }}">', { X: 'javascript', Y: ':alert(1)' }), '<a href="javascript%3aalert%281%29">');
  });

  it('escapes CSS in style attributes: url() as a URL, other values filtered', () => {
    assert.equal(
      render('<main style="background-image:url({{ .ThemeURL }}/bg.svg);">'),
      '<main style="background-image:url(/authservice/site/themes/kubeflow/bg.svg);">',
    );
    assert.equal(render('<p style="background:url({{ .X }})">', { X: 'javascript:x' }), '<p style="background:url(#ZgotmplZ)">');
    assert.equal(render(`<p style="background:url('{{ .X }}')">`, { X: "a') ; x('" }), `<p style="background:url('a%27%29%20;%20x%28%27')">`);
    assert.equal(render('<p style="color: {{ .X }}">', { X: '#fff' }), '<p style="color: #fff">');
    assert.equal(render('<p style="color: {{ .X }}">', { X: 'red; background: url(x)' }), '<p style="color: ZgotmplZ">');
    assert.equal(render('<style>p { color: {{ .X }} }</style>', { X: 'expression(alert(1))' }), '<style>p { color: ZgotmplZ }</style>');
    assert.equal(
      render('<style>p::after { content: "{{ .X }}" }</style>', { X: '"}</style>' }),
      '<style>p::after { content: "\\22 \\7d \\3c \\2f style\\3e " }</style>',
    );
  });

  it('escapes values in scripts and event handlers as JavaScript strings', () => {
    assert.equal(
      render('<script>var u = "{{ .X }}";</script>', { X: '"; alert(1); </script>' }),
      '<script>var u = "\\u0022; alert(1); \\u003c\\u002fscript\\u003e";</script>',
    );
    assert.equal(render('<script>var u = {{ .X }};</script>', { X: "a'b" }), '<script>var u = "a\\u0027b";</script>');
    assert.equal(render(`<script>f('{{ .X }}')</script>`, { X: 'x' }), `<script>f('x')</script>`);
    assert.equal(render('<button onclick="go(\'{{ .X }}\')">', { X: "');evil('" }), '<button onclick="go(\'\\u0027);evil(\\u0027\')">');
  });

  it('drops HTML comments, values inside them too', () => {
    assert.equal(render('a<!-- hidden {{ .X }} -->b', { X: 'x' }), 'ab');
  });

  it('refuses values where no escaping is safe', () => {
    assert.match(compileError('<a {{ .X }}>').message, /^\/t\/page\.html:1: a value inside a tag/);
    assert.match(compileError('x\n<{{ .X }}>').message, /^\/t\/page\.html:2: a value right after '<'/);
    assert.match(compileError('<{{ if .X }}b{{ else }}i{{ end }}>').message, /\{\{if\}\} right after '<'/);
    assert.match(compileError('<script>// {{ .X }}\n</script>').message, /JavaScript comment/);
    assert.match(compileError('<a href="{{ if .X }}/a{{ else }}?{{ end }}{{ .Y }}">').message, /branches of \{\{if\}\} end in different places/);
    assert.match(compileError('<p title="{{ template "x.html" . }}">', { 'x.html': 'x' }).message, /must be in HTML text/);
    assert.match(compileError('<p title="x').message, /ends inside the title attribute of <p>/);
  });
});

describe('template errors name the file and line', () => {
  const cases: [string, RegExp][] = [
    ['line1\n{{ upper .ClientName }}', /^\/t\/page\.html:2: unknown function "upper" \(supported: index, resolve_url_ref\)$/],
    ['\n\n{{ .Nope }}', /^\/t\/page\.html:3: unknown field \.Nope \(known: \.ProviderURL, /],
    ['{{ .Action.Nope }}', /:1: unknown field \.Nope in \.Action/],
    ['{{ .ClientName.Sub }}', /:1: unknown field \.Sub in \.ClientName/],
    ['a\nb {{ .ClientName \n', /^\/t\/page\.html:2: unclosed action/],
    ['{{ if .X }}\nno end', /^\/t\/page\.html:1: \{\{if\}\} without \{\{end\}\}/],
    ['x\n{{ end }}', /:2: unexpected \{\{end\}\}/],
    ['{{ else }}', /:1: unexpected \{\{else\}\}/],
    ['{{ if .X }}{{ else }}{{ else }}{{ end }}', /a second \{\{else\}\}/],
    ['{{ .X | html }}', /pipelines \('\|'\) are not supported/],
    ['{{ $x := .X }}', /variables are not supported/],
    ['{{ range .List }}{{ end }}', /\{\{range\}\} is not supported/],
    ['{{ with .X }}{{ end }}', /\{\{with\}\} is not supported/],
    ['{{ define "x" }}{{ end }}', /\{\{define\}\} is not supported/],
    ['{{ index .Frontend }}', /index takes a map and a key/],
    ['{{ index .ClientName "x" }}', /index: the first argument is not a map/],
    ['{{ resolve_url_ref .ProviderURL }}', /resolve_url_ref takes a base URL and a reference/],
    ['{{ }}', /empty action/],
    ['{{ 42 }}', /unexpected "42"/],
    ['{{/* never closed', /unclosed comment/],
    ['{{ "unterminated\n" }}', /unterminated string literal/],
    ['{{ .X .Y }}', /a value cannot take arguments/],
    ['{{ (index .Frontend "K" }}', /missing '\)'/],
    ['\n{{ template "nope.html" . }}', /^\/t\/page\.html:2: no template named "nope\.html"$/],
    ['{{ template "page.html" . }}', /"page\.html" includes itself/],
  ];
  for (const [src, want] of cases) {
    it(JSON.stringify(src), () => {
      assert.match(compileError(src).message, want);
    });
  }

  it('an indirect include cycle is refused', () => {
    const err = compileError('{{ template "a.html" }}', { 'a.html': '{{ template "b.html" }}', 'b.html': '\n{{ template "a.html" }}' });
    assert.match(err.message, /\/t\/b\.html:2: "a\.html" includes itself/);
    assert.equal(err.file, '/t/b.html');
    assert.equal(err.line, 2);
  });
});

describe('template sets from directories', () => {
  const root = mkdtempSync(join(tmpdir(), 'oidc-judge-templates-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = (name: string, files: Record<string, string>): string => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    for (const [f, src] of Object.entries(files)) writeFileSync(join(d, f), src);
    return d;
  };

  it('a later directory replaces files of the same name; other files and non-.html files stay out', () => {
    const builtIn = dir('builtin', {
      'header.html': '<h1>{{ .ClientName }}</h1>',
      'homepage.html': '{{ template "header.html" . }}built-in',
      'notes.txt': '{{ broken',
    });
    const custom = dir('custom', { 'header.html': '<h2>custom {{ .ClientName }}</h2>' });
    const later = dir('later', { 'extra.html': 'extra' });
    const set = loadTemplateSet([builtIn, custom, later], FIELDS);
    assert.equal(set.render('homepage.html', CTX), '<h2>custom Kubeflow</h2>built-in');
    assert.equal(set.fileOf('header.html'), join(custom, 'header.html'));
    assert.deepEqual([...set.names].sort(), ['extra.html', 'header.html', 'homepage.html']);
    assert.throws(() => set.render('nope.html', CTX), /no template named "nope\.html"/);
  });

  it('a broken override fails loading with its path and line', () => {
    const builtIn = dir('builtin2', { 'homepage.html': 'fine' });
    const broken = dir('broken', { 'homepage.html': 'line 1\nline 2 {{ .Nope }}' });
    assert.throws(
      () => loadTemplateSet([builtIn, broken], FIELDS),
      (err: unknown) => err instanceof TemplateError && err.message.startsWith(`${join(broken, 'homepage.html')}:2: unknown field .Nope`),
    );
  });

  it('a missing directory is an error naming it', () => {
    const missing = join(root, 'does-not-exist');
    assert.throws(() => loadTemplateSet([missing], FIELDS), new RegExp(`template directory ${missing} cannot be read: ENOENT`));
  });

  it("oidc-authservice's GitLab after_logout templates render as before", () => {
    const builtIn = dir('builtin3', {
      'header.html':
        '<!DOCTYPE html>\n<html>\n<head>\n\t<meta charset="utf-8" />\n\t<title>{{ .ClientName }}</title>\n\t<link href="{{ .ThemeURL }}/styles.css" rel="stylesheet" />\n</head>\n',
      'footer.html': '</html>\n',
    });
    const gitlab = dir('gitlab', {
      'after_logout.html': [
        '{{ template "header.html" . }}',
        '<body>',
        '  <main class="main" style="background-image:url({{ .ThemeURL }}/bg.svg);">',
        '    <div class="box-content">You have successfully logged out from {{ .ClientName }}</div>',
        '    <form class="button-wrapper" action="{{resolve_url_ref .ProviderURL "/users/sign_out"}}" method="post" target="_self">',
        '      <input class="button uppercase" type="submit" value="Log out from GitLab" />',
        '    </form>',
        '    <p>{{ index .Frontend "KEY" }}</p>',
        '  </main>',
        '  <script>',
        '    req.open("POST", "{{ resolve_url_ref .ProviderURL "/users/sign_out" }}");',
        '    window.location.replace("{{ .ProviderURL }}");',
        '  </script>',
        '</body>',
        '{{ template "footer.html" . }}',
      ].join('\n'),
    });
    const html = loadTemplateSet([builtIn, gitlab], FIELDS).render('after_logout.html', { ...CTX, ClientName: 'Kubeflow <Prod>' });
    assert.ok(html.startsWith('<!DOCTYPE html>\n<html>\n<head>'));
    assert.ok(html.includes('<title>Kubeflow &lt;Prod&gt;</title>'));
    assert.ok(html.includes('<link href="/authservice/site/themes/kubeflow/styles.css" rel="stylesheet" />'));
    assert.ok(html.includes('style="background-image:url(/authservice/site/themes/kubeflow/bg.svg);"'));
    assert.ok(html.includes('You have successfully logged out from Kubeflow &lt;Prod&gt;</div>'));
    assert.ok(html.includes('action="https://gitlab.example.com/users/sign_out" method="post"'));
    assert.ok(html.includes('<p>value-of-key</p>'));
    assert.ok(html.includes('req.open("POST", "https:\\u002f\\u002fgitlab.example.com\\u002fusers\\u002fsign_out");'));
    assert.ok(html.includes('window.location.replace("https:\\u002f\\u002fgitlab.example.com");'));
    assert.ok(html.endsWith('</body>\n</html>\n'));
  });
});
