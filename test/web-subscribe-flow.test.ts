// The double opt-in loop over real HTTP and real SMTP: subscribe -> email -> link -> page -> POST -> active.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, postForm, confirmLinkFrom, type Harness } from './helpers/web-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('subscribe flow', () => {
  it('confirms a new address through the emailed link', async () => {
    const res = await postForm(`${h.url}/subscribe`, {
      email: '  Ada.Lovelace@Example.ORG ',
      frequency: 'weekly',
      kind: 'both',
      topics: 'diffusion, robotics',
      time_zone: 'Europe/Berlin',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/check-inbox');
    const inbox = await fetch(`${h.url}/check-inbox`);
    expect(inbox.status).toBe(200);
    expect(await inbox.text()).toContain('Check your inbox');

    const stored = h.service.repo.byEmail('Ada.Lovelace@example.org')!;
    expect(stored.status).toBe('pending');
    expect(stored).toMatchObject({ frequency: 'weekly', kind: 'both', topics: ['diffusion', 'robotics'], time_zone: 'Europe/Berlin' });

    const [mail] = await h.sink.waitFor(1, 'Ada.Lovelace@example.org');
    expect(mail!.parsed.subject).toBe('Confirm your paperboy subscription');
    expect(mail!.parsed.html).toBeTruthy();
    expect(mail!.parsed.text).toContain('/confirm/');
    const link = confirmLinkFrom(mail!.parsed.text!);
    expect(link.startsWith(h.url)).toBe(true);
    // The HTML part carries the same link as a button.
    expect(mail!.parsed.html as string).toContain(link);
    // Only a hash of the token is stored.
    const token = link.split('/confirm/')[1]!;
    const rows = h.store.db.prepare('SELECT token_hash FROM confirm_tokens').all() as { token_hash: string }[];
    expect(rows.map((r) => r.token_hash)).not.toContain(token);
    expect(rows).toHaveLength(1);

    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`action="/confirm/${token}"`);
    expect(h.service.repo.byId(stored.id)!.status).toBe('pending');

    const done = await postForm(link, {});
    expect(done.status).toBe(200);
    const doneHtml = await done.text();
    expect(doneHtml).toContain('subscribed');
    expect(doneHtml).toMatch(/href="\/preferences\/\d+-[0-9a-f]{28}"/);
    const after = h.service.repo.byId(stored.id)!;
    expect(after.status).toBe('active');
    expect(after.confirmed_at).not.toBeNull();
    expect(h.service.repo.confirmationsFor(stored.id).map((r) => r.status)).toEqual(['sent']);
  });
});
