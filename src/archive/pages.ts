// Owns the web archive's HTML pages (paper page, messages): one project template, compiled once.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { createHandlebars } from '../render/renderer.js';

export type PageConfig = Pick<Config, 'PUBLIC_URL' | 'SENDER_ADDRESS_LINE'>;

export function createPages(opts: { templatesDir: string; config: PageConfig; today: () => string }) {
  const template = createHandlebars().compile(readFileSync(join(opts.templatesDir, 'archive', 'page.html.hbs'), 'utf8'));
  const siteUrl = opts.config.PUBLIC_URL.replace(/\/+$/, '');
  return {
    render(view: Record<string, unknown> & { title: string }): string {
      return template({ siteUrl, feedUrl: `${siteUrl}/feed.xml`, senderLine: opts.config.SENDER_ADDRESS_LINE, today: opts.today(), ...view });
    },
  };
}
export type Pages = ReturnType<typeof createPages>;
