/**
 * The sign-in chooser: on a host several providers serve (`providers:`), a browser that has chosen
 * none yet gets this page — one link per provider, each starting `<prefix>/login?provider=<id>`
 * back to the page it asked for. The page templates have no loops, so the list is written here,
 * every value escaped, between the theme's own `header.html` and `footer.html`: plain links in a
 * list under a heading, reachable and announced by keyboard and screen reader.
 */
import { escapeHtml } from './escape.js';
import type { TemplateSet } from './template.js';

export interface ChooserChoice {
  readonly label: string;
  readonly href: string;
}

export interface ChooserContext {
  readonly templates: TemplateSet;
  readonly themeUrl: string;
  readonly clientName: string;
}

export function chooserPage(ctx: ChooserContext, choices: readonly ChooserChoice[]): string {
  const title = 'Choose how to sign in';
  const head = ctx.templates.render('header.html', { ThemeURL: ctx.themeUrl, ClientName: ctx.clientName, Title: title });
  const foot = ctx.templates.render('footer.html', {});
  const items = choices.map((c) => `          <li><a class="button" href="${escapeHtml(c.href)}">Sign in with ${escapeHtml(c.label)}</a></li>`).join('\n');
  return `${head}
<body>
  <div class="wrapper">
    <header class="header">
      <img class="logo" src="${escapeHtml(ctx.themeUrl)}/logo.svg" alt="" width="36" height="36">
      <span class="brand">${escapeHtml(ctx.clientName)}</span>
    </header>
    <main class="main">
      <section class="box" aria-labelledby="title">
        <h1 class="box-content" id="title">${title}</h1>
        <p class="box-text" id="chooser-help">This site accepts several accounts. Choose the one to sign in with; it is remembered in this browser.</p>
        <nav aria-labelledby="title">
          <ul class="button-wrapper chooser" aria-describedby="chooser-help">
${items}
          </ul>
        </nav>
      </section>
    </main>
  </div>
</body>
${foot}`;
}
