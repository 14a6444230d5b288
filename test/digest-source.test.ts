import { SLOT_TOKENS } from '../src/render/placeholders.js';
import { describe, it, expect } from 'vitest';
import { openStore } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { digestSourceFor } from '../src/app.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { addPaper, addSubscriber, recordSent } from './helpers/corpus.js';

// Delivery renders once per selection with its own placeholder strings, then fills them per message: they must come
// through selection and rendering verbatim, in HTML and text.
describe('digest source for delivery', () => {
  it('selects per subscriber, says why when nothing is left, and renders with the slots verbatim', async () => {
    const store = openStore(':memory:');
    const clock = new FakeClock(new Date('2026-03-10T08:00:00Z'));
    const a = addPaper(store, { title: 'Paper A & co', upvotes: 5, publishedOn: '2026-03-09' });
    const b = addPaper(store, { title: 'Paper B', upvotes: 1, publishedOn: '2026-03-08' });
    const fresh = addSubscriber(store, { digestSize: 5 });
    const done = addSubscriber(store, { digestSize: 5 });
    recordSent(store, done, [a, b], '2026-03-09');
    const config = { ...loadConfig({ PUBLIC_URL: 'https://p.example.org' }), ADMIN_TOKEN: 'x'.repeat(16), SECRET_KEY: 'k'.repeat(32) };
    const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config, validationLevel: 'strict' });
    const source = digestSourceFor({ store, clock, config }, { renderer });
    const prepared = await source.prepare('trending', '2026-03-10');
    const row = (id: number) => ({
      id,
      email: `r${id}@example.org`,
      status: 'active' as const,
      frequency: 'daily' as const,
      weekday: 1,
      kind: 'trending' as const,
      topics: '[]',
      digest_size: 5,
      delivery_hour: 8,
      time_zone: 'UTC',
      created_at: '2026-01-01',
      confirmed_at: '2026-01-01',
    });
    const sel = await prepared.select(row(fresh));
    if ('nothing' in sel) throw new Error(sel.nothing);
    expect(sel.paperIds).toEqual([a, b]);
    expect(await prepared.select(row(done))).toEqual({ nothing: 'every paper on or before 2026-03-10 has already been sent to this subscriber' });
    const out = await prepared.render(sel);
    expect(out.subject).toBe('“Paper A & co” + 1 more trending paper');
    expect(out.html).toContain(`href="${SLOT_TOKENS.unsubscribeUrl}"`);
    expect(out.html).toContain(`href="${SLOT_TOKENS.manageUrl}"`);
    expect(out.html).toContain(SLOT_TOKENS.email);
    expect(out.text).toContain(`Unsubscribe: ${SLOT_TOKENS.unsubscribeUrl}`);
    expect(out.html).not.toContain('PBX');
    const links = source.links(42);
    expect(links.unsubscribeUrl).toMatch(/^https:\/\/p\.example\.org\/unsubscribe\/[A-Za-z0-9._-]+$/);
    expect(links.manageUrl).toMatch(/^https:\/\/p\.example\.org\/preferences\//);
    store.close();
  });
});
