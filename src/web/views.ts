// Owns server-rendered pages: every template under templates/web compiled once, wrapped in the shared layout.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';

const here = dirname(fileURLToPath(import.meta.url));
export const WEB_TEMPLATES_DIR = join(here, '..', '..', 'templates', 'web');

export interface PageData {
  title: string;
  [key: string]: unknown;
}

export interface Views {
  /** The page `name` (templates/web/<name>.hbs) inside the layout. Values are escaped by Handlebars. */
  render(name: string, data: PageData): string;
  readonly css: string;
  readonly cssVersion: string;
  /** CSP sources ('sha256-...') for the templates' inline scripts, so no 'unsafe-inline' is needed. */
  readonly scriptHashes: string[];
}

/** Inline scripts in our templates hold no Handlebars expressions, so their hashes are known at start. */
function inlineScriptHashes(sources: string[]): string[] {
  const out = new Set<string>();
  for (const src of sources) {
    for (const m of src.matchAll(/<script>([\s\S]*?)<\/script>/g)) {
      if (m[1]!.includes('{{')) throw new Error('inline scripts must not contain Handlebars expressions');
      out.add(`'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
    }
  }
  return [...out];
}

function registerHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('eq', (a: unknown, b: unknown) => String(a) === String(b));
  hbs.registerHelper('includes', (list: unknown, v: unknown) => Array.isArray(list) && list.map(String).includes(String(v)));
  hbs.registerHelper('truncate', (s: unknown, n: number) => {
    const t = String(s ?? '');
    if (t.length <= n) return t;
    const cut = t.lastIndexOf(' ', n) > n * 0.6 ? t.lastIndexOf(' ', n) : n;
    return t.slice(0, cut).replace(/[\s,;:.\-–(]+$/, '') + '…';
  });
  hbs.registerHelper('pad2', (n: number) => String(n).padStart(2, '0'));
}

/** Compiles every page and partial now, so a template error stops the start instead of a request. */
export function loadViews(dir = WEB_TEMPLATES_DIR): Views {
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  const partialsDir = join(dir, 'partials');
  for (const f of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs'))) {
    hbs.registerPartial(basename(f, '.hbs'), readFileSync(join(partialsDir, f), 'utf8'));
  }
  const layout = hbs.compile(readFileSync(join(dir, 'layout.hbs'), 'utf8'), { strict: false });
  const pages = new Map<string, Handlebars.TemplateDelegate>();
  const sources: string[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.hbs') && f !== 'layout.hbs')) {
    const source = readFileSync(join(dir, f), 'utf8');
    sources.push(source);
    const t = hbs.compile(source);
    t({ title: '' }); // compile eagerly (Handlebars compiles lazily on first call)
    pages.set(basename(f, '.hbs'), t);
  }
  const css = readFileSync(join(dir, 'style.css'), 'utf8');
  const cssVersion =
    String(css.length.toString(36)) +
    css
      .split('')
      .reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
      .toString(36);
  return {
    css,
    cssVersion,
    scriptHashes: inlineScriptHashes(sources),
    render(name, data) {
      const page = pages.get(name);
      if (!page) throw new Error(`no page template "${name}" in ${dir}`);
      return layout({ ...data, cssVersion, body: page(data) });
    },
  };
}
