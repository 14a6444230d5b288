// The service with its paper source unreachable (a closed local port: no test reaches the real host): it starts and
// serves at once, says once that the source is unreachable, sends from the stored corpus, and the admin dashboard
// shows the failed fetch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createApp, type App } from '../src/app.js';
import { startService, type Service } from '../src/service-runner.js';
import { startSmtpReceiver, type SmtpReceiver } from './helpers/smtp-receiver.js';
import { freePort } from './helpers/free-port.js';
import { tempDir } from './helpers/tmp.js';
import { addSubscriber } from './helpers/corpus.js';

const TOKEN = 'admin-token-for-offline-test';

describe('a service whose paper source is unreachable', () => {
  const dir = tempDir();
  const lines: { level: number; msg: string; source?: string }[] = [];
  let smtp: SmtpReceiver;
  let app: App;
  let service: Service;
  let base: string;
  // The fetch at start waits here before its retry, until the test has seen the service serve.
  let release!: () => void;
  const retryGate = new Promise<void>((r) => (release = r));

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    const port = await freePort();
    const closed = await freePort();
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
          done();
        },
      }),
    );
    const config = loadConfig({
      DATA_DIR: dir,
      PORT: String(port),
      SMTP_URL: smtp.url,
      ADMIN_TOKEN: TOKEN,
      INBOUND_SMTP_ENABLED: 'false',
      SCHEDULER_ENABLED: 'false',
      DAILY_PAPERS_URL: `http://127.0.0.1:${closed}`,
      FETCH_RETRIES: '1',
    });
    app = createApp(config, { log });
    service = await startService(app, { fetcher: { http: { sleep: () => retryGate } } });
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await service?.stop();
    await app?.close();
    await smtp?.close();
  });

  const fetchRuns = () =>
    app.store.db.prepare("SELECT status, error, trigger FROM fetch_runs WHERE source = 'daily-papers' ORDER BY id").all() as {
      status: string;
      error: string | null;
      trigger: string;
    }[];

  it('serves at once, while the fetch at start is still trying', async () => {
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain('<h3>');
    // The fetch at start has failed once and waits to retry: the service did not wait for it.
    expect(fetchRuns()[0]).toMatchObject({ status: 'running', trigger: 'start' });
    release();
  });

  it('says once that the source is unreachable, and the dashboard shows the failed fetch', async () => {
    const until = Date.now() + 20_000;
    while (fetchRuns()[0]?.status === 'running' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(fetchRuns()[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/: unreachable \(connect ECONNREFUSED [\d.:]+\) \(after 2 attempts\)$/),
    });

    // A second failing fetch (the schedule's next one) goes on the dashboard, not into the log again.
    const again = await service.fetching!.fetchNow('cron');
    expect(again!.sources[0]!.status).toBe('failed');
    const warned = lines.filter((l) => l.level === 40 && l.msg.includes('daily-papers: source unreachable'));
    expect(warned).toHaveLength(1);
    expect(warned[0]!.msg).toContain('digests go out from the stored corpus');

    const dash = await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(dash.status).toBe(200);
    const html = await dash.text();
    const section = html.slice(html.indexOf('<h2>Paper sources</h2>'), html.indexOf('<h2>Failures and retries</h2>'));
    expect(section).toContain('<span class="source-name">daily-papers</span>');
    expect(section).toContain('cron');
    expect(section).toContain('<span class="pill bad">failed</span>');
    expect(section).toMatch(/unreachable \(connect ECONNREFUSED/);
    expect(section).toContain('never'); // it never worked yet
  });

  it('sends a digest from the stored corpus (the seeds)', async () => {
    addSubscriber(app.store, { email: 'offline@example.org', digestSize: 3 });
    const summary = await service.delivery.service.run({ trigger: 'cli', mode: 'force' });
    expect(summary.counts.sent).toBe(1);
    const mail = await smtp.parsed(smtp.received.length - 1);
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('offline@example.org');
    // Seed papers: no arXiv id, so their own page is where they are read, and arXiv can be searched by title.
    expect(mail.text).toMatch(/Read the abstract: http:\/\/localhost:\d+\/papers\/\d+/);
    expect(mail.text).toContain('Find on arXiv: https://arxiv.org/search/?searchtype=title&query=');
  });
});
