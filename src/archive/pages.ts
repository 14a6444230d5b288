// Owns the web archive's HTML pages (a digest, a paper, the editions): the site's templates in the site's layout.
import { join } from 'node:path';
import type { Config } from '../config.js';
import { loadViews, type Views } from '../web/views.js';

export type PageConfig = Pick<Config, 'PUBLIC_URL' | 'SENDER_ADDRESS_LINE'>;

export function createPages(opts: { templatesDir: string; config: PageConfig; today: () => string; views?: Views }) {
  const views = opts.views ?? loadViews(join(opts.templatesDir, 'web'));
  const siteUrl = opts.config.PUBLIC_URL.replace(/\/+$/, '');
  return {
    render(name: string, view: Record<string, unknown> & { title: string }): string {
      return views.render(name, {
        siteUrl,
        feedUrl: `${siteUrl}/feed.xml`,
        senderLine: opts.config.SENDER_ADDRESS_LINE,
        today: opts.today(),
        navDigest: true,
        ...view,
      });
    },
  };
}
export type Pages = ReturnType<typeof createPages>;
