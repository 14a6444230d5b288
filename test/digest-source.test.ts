import { describe, it, expect } from 'vitest';
import { openStore } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { createDigestSource, digestSourceFor } from '../src/digest/source.js';
import type { DigestSource } from '../src/delivery/ports.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../src/render/renderer.js';
import { addPaper, addSubscriber, recordSent } from './helpers/corpus.js';

// The placeholder shape delivery uses (src/delivery/mime.ts on the delivery branch).
const SLOTS = {
  unsubscribeUrl: 'https://pbx-placeholder.invalid/pbxUnsubscribeUrlXbp',
  unsubscribeMailto: 'mailto:pbxUnsubscribeMailtoXbp@pbx-placeholder.invalid',
  manageUrl: 'https://pbx-placeholder.invalid/pbxManageUrlXbp',
  email: 'pbxRecipientEmailXbp@pbx-placeholder.invalid',
};

describe('digest source for delivery', () => {
  it('selects per subscriber, says why when nothing is left, and renders with the slots verbatim', async () => {
    const store = openStore(':memory:');
    const clock = new FakeClock(new Date('2026-03-10T08:00:00Z'));
    const a = addPaper(store, { title: 'Paper A & co', upvotes: 5, publishedOn: '2026-03-09' });
    const b = addPaper(store, { title: 'Paper B', upvotes: 1, publishedOn: '2026-03-08' });
    const fresh = addSubscriber(store, { digestSize: 5 });
    const done = addSubscriber(store, { digestSize: 5 });
    recordSent(store, done, [a, b], '2026-03-09');
    const renderer = createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config: loadConfig({ PUBLIC_URL: 'https://p.example.org' }), validationLevel: 'strict' });
    const source = createDigestSource({
      store, clock, renderer,
      links: (id) => ({ unsubscribeUrl: `https://p.example.org/unsubscribe/${id}`, unsubscribeMailto: `mailto:u+${id}@p.example.org`, manageUrl: `https://p.example.org/preferences/${id}` }),
    });
    const prepared = source.prepare('trending', '2026-03-10');
    const row = (id: number) => ({ id, kind: 'trending' as const, topics: '[]', digest_size: 5, frequency: 'daily' });
    const sel = prepared.select(row(fresh));
    if ('nothing' in sel) throw new Error(sel.nothing);
    expect(sel.paperIds).toEqual([a, b]);
    expect(prepared.select(row(done))).toEqual({ nothing: 'every paper on or before 2026-03-10 has already been sent to this subscriber' });
    const out = await prepared.render(sel, SLOTS);
    expect(out.subject).toBe('“Paper A & co” + 1 more trending paper');
    expect(out.html).toContain(`href="${SLOTS.unsubscribeUrl}"`);
    expect(out.html).toContain(`href="${SLOTS.manageUrl}"`);
    expect(out.html).toContain(SLOTS.email);
    expect(out.text).toContain(`Unsubscribe: ${SLOTS.unsubscribeUrl}`);
    expect(out.html).not.toContain('PBX');
    await expect(prepared.render(sel, { ...SLOTS, email: 'a&b@x' })).rejects.toThrow(/slot email/);
    expect(source.links(7).manageUrl).toBe('https://p.example.org/preferences/7');
    store.close();
  });

  it('fits delivery\'s DigestSource port and signs real links from the app', () => {
    const store = openStore(':memory:');
    const config = { ...loadConfig({ PUBLIC_URL: 'https://p.example.org' }), ADMIN_TOKEN: 'x'.repeat(16), SECRET_KEY: 'k'.repeat(32) };
    const port: DigestSource = digestSourceFor({ store, clock: new FakeClock(new Date('2026-03-10T08:00:00Z')), config });
    const links = port.links(42);
    expect(links.unsubscribeUrl).toMatch(/^https:\/\/p\.example\.org\/unsubscribe\/[A-Za-z0-9._-]+$/);
    expect(links.unsubscribeMailto).toMatch(/^mailto:unsubscribe\+/);
    expect(links.manageUrl).toMatch(/^https:\/\/p\.example\.org\/preferences\//);
    store.close();
  });
});
