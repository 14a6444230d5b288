// startWeb as `npm start` uses it: the real app (secrets resolved, corpus ingested), extra route plugins, clean stop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { silentLogger } from '../src/log.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { startWeb } from '../src/web/start.js';
import type { RoutePlugin } from '../src/web/route-context.js';
import { startSmtpReceiver } from './helpers/smtp-receiver.js';
import { createSmtpTestMessenger } from './helpers/smtp-messenger.js';
import { postForm } from './helpers/web-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'paperboy-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('startWeb', () => {
  it('serves the corpus, takes plugins from other areas, sends confirmations, and stops', async () => {
    const app = createApp(loadConfig({ DATA_DIR: dir, SEEDS_DIR: 'seeds', PUBLIC_URL: 'https://papers.example.org' }), { log: silentLogger });
    ingestPaths(app.store, [app.config.SEEDS_DIR], app.clock);
    const sink = await startSmtpReceiver();
    const messenger = createSmtpTestMessenger(sink.port);
    let sawDeps = false;
    const archive: RoutePlugin = (server, deps) => {
      sawDeps = typeof deps.subscriptions.subscribe === 'function';
      server.get('/archive', async (_req, reply) => reply.page('error', { title: 'Archive', heading: 'Archive <soon>', lines: [] }));
    };
    const web = await startWeb(app, messenger, { port: 0, routes: [archive] });
    try {
      expect(sawDeps).toBe(true);
      const home = await (await fetch(web.address + '/')).text();
      const titles = [...home.matchAll(/<h3><a href="\/papers\/\d+">([^<]+)<\/a><\/h3>/g)].map((m) => m[1]);
      expect(titles.length).toBe(5);
      const plugin = await fetch(web.address + '/archive');
      expect(plugin.status).toBe(200);
      expect(await plugin.text()).toContain('Archive &lt;soon&gt;');

      expect((await postForm(web.address + '/subscribe', { email: 'start@example.org', frequency: 'daily', kind: 'new' })).status).toBe(303);
      const [mail] = await sink.waitFor(1, 'start@example.org');
      // Emailed links use PUBLIC_URL, not the listening address.
      expect(mail!.parsed.text).toMatch(/https:\/\/papers\.example\.org\/confirm\/[A-Za-z0-9_-]{43}/);
      expect(mail!.parsed.from?.text).toContain('digest@localhost');
    } finally {
      await web.stop();
      await messenger.close();
      await sink.close();
      await app.close();
    }
    await expect(fetch(web.address + '/')).rejects.toThrow();
  });
});
