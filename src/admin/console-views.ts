// Owns rendering the admin pages: the project's own Handlebars templates under templates/admin/, nothing else.
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ADMIN_TEMPLATES_DIR = join(here, '..', '..', 'templates', 'admin');

// A private instance: helpers and partials here do not leak into the email or public page renderers.
const hbs = Handlebars.create();
const cache = new Map<string, Handlebars.TemplateDelegate>();

hbs.registerHelper('isoDate', (d: unknown) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : ''));
hbs.registerHelper('shortDate', (d: unknown) =>
  d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—',
);
hbs.registerHelper('bytes', (n: unknown) => {
  const v = Number(n);
  if (!Number.isFinite(v)) return '';
  return v < 1024 ? `${v} B` : v < 1024 * 1024 ? `${(v / 1024).toFixed(1)} KB` : `${(v / 1024 / 1024).toFixed(1)} MB`;
});
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

function template(name: string): Handlebars.TemplateDelegate {
  let t = cache.get(name);
  if (!t) {
    t = hbs.compile(readFileSync(join(ADMIN_TEMPLATES_DIR, `${name}.hbs`), 'utf8'));
    cache.set(name, t);
  }
  return t;
}

/** Renders `name` inside the admin layout. Every value is escaped by `{{ }}`; the templates never use `{{{ }}}`. */
export function renderAdminPage(name: string, data: Record<string, unknown>): string {
  const body = template(name)(data);
  return template('admin-layout')({ ...data, body: new hbs.SafeString(body) });
}
