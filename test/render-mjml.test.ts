import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { keepMjmlLoaded, mjml2html, mjmlThreadRunning, stopMjml } from '../src/render/mjml.js';

const DOC = (body: string) => `<mjml><mj-body><mj-section><mj-column>${body}</mj-column></mj-section></mj-body></mjml>`;

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(() => keepMjmlLoaded(1000));

describe('MJML on its own thread', () => {
  it('compiles to HTML and reports soft-validation warnings with their line', async () => {
    const r = await mjml2html(DOC('<mj-text>Hello from pbxHeadlineXbp</mj-text>\n<mj-text nonsense="1">x</mj-text>'), { validationLevel: 'soft' });
    expect(r.html).toContain('Hello from pbxHeadlineXbp');
    expect(r.html).toMatch(/^<!doctype html>/i);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.formattedMessage).toMatch(/nonsense/);
    expect(r.errors[0]!.tagName).toBe('mj-text');
  });

  it('rejects under strict validation with what MJML said', async () => {
    await expect(mjml2html(DOC('<mj-text nonsense="1">x</mj-text>'), { validationLevel: 'strict' })).rejects.toThrow(/nonsense/);
    // The thread is still good for the next compile.
    expect((await mjml2html(DOC('<mj-text>after</mj-text>'))).html).toContain('after');
  });

  it('answers concurrent compiles each with its own document', async () => {
    const words = Array.from({ length: 8 }, (_, i) => `word${i}x`);
    const out = await Promise.all(words.map((w) => mjml2html(DOC(`<mj-text>${w}</mj-text>`))));
    out.forEach((r, i) => {
      expect(r.html).toContain(words[i]);
      for (const other of words.filter((_, j) => j !== i)) expect(r.html).not.toContain(other);
    });
  });

  it('never loads MJML on the calling thread', async () => {
    await mjml2html(DOC('<mj-text>x</mj-text>'));
    const cache = Object.keys(createRequire(import.meta.url).cache);
    expect(cache.filter((k) => /node_modules[\\/]mjml/.test(k))).toEqual([]);
  });

  it('ends the thread once idle (at once for a send), and starts it again for the next compile', async () => {
    keepMjmlLoaded(0);
    await mjml2html(DOC('<mj-text>one</mj-text>'));
    await until(() => !mjmlThreadRunning());
    const again = mjml2html(DOC('<mj-text>two</mj-text>'));
    expect(mjmlThreadRunning()).toBe(true);
    expect((await again).html).toContain('two');
    await until(() => !mjmlThreadRunning());
  });

  it('keeps the thread for the time it is told to', async () => {
    keepMjmlLoaded(60_000);
    await mjml2html(DOC('<mj-text>kept</mj-text>'));
    await new Promise((r) => setTimeout(r, 300));
    expect(mjmlThreadRunning()).toBe(true);
  });

  it('ends the thread when told (a stopping service): a compile still waiting fails with why, the next one works', async () => {
    keepMjmlLoaded(60_000);
    await mjml2html(DOC('<mj-text>warm</mj-text>'));
    // Long enough (some 100 ms) that the thread is still at it when it is told to end.
    const waiting = mjml2html(DOC('<mj-text>cut short</mj-text>'.repeat(400)));
    await stopMjml();
    expect(mjmlThreadRunning()).toBe(false);
    await expect(waiting).rejects.toThrow(/MJML worker exited .* with compiles pending/);
    expect((await mjml2html(DOC('<mj-text>after</mj-text>'))).html).toContain('after');
  });
});
