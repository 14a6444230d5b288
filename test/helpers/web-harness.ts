// Starts the whole subscription web app for a test: temp SQLite, real SMTP sink, worker, listening fastify.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { openStore, type Store } from '../../src/db/open.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { createSubscriptions, type Subscriptions } from '../../src/subscriptions/subscription-wiring.js';
import { buildServer } from '../../src/web/server.js';
import { startSmtpReceiver, type SmtpReceiver } from './smtp-receiver.js';
import { createSmtpTestMessenger } from './smtp-messenger.js';

export const TEST_SECRET = 'test-secret-key-0123456789abcdefghijklmnop';

export interface Harness extends Subscriptions {
  url: string;
  config: Config;
  store: Store;
  sink: SmtpReceiver;
  app: FastifyInstance;
  dir: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startHarness(env: Record<string, string> = {}, opts: { clock?: Clock; startWorker?: boolean } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-web-'));
  // The port is chosen first so PUBLIC_URL (used in emailed links) points at this very server.
  const port = await freePort();
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: 'silent',
    SUBSCRIBE_RATE_LIMIT_PER_MIN: '1000',
    ...env,
  });
  const store = openStore(config.DATABASE_PATH);
  const sink = await startSmtpReceiver();
  const messenger = createSmtpTestMessenger(sink.port);
  const clock = opts.clock ?? systemClock;
  const subs = await createSubscriptions({ config, store, clock, log: silentLogger, messenger, secret: TEST_SECRET, pollMs: 200 });
  const app = await buildServer({ config, store, clock, log: silentLogger, secret: TEST_SECRET, subscriptions: subs.service });
  await app.listen({ port, host: '127.0.0.1' });
  if (opts.startWorker !== false) subs.worker.start();
  return {
    ...subs,
    url: `http://127.0.0.1:${port}`,
    config,
    store,
    sink,
    app,
    dir,
    async close() {
      await subs.worker.stop();
      await app.close();
      await messenger.close();
      await sink.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs a urlencoded form without following redirects. */
export async function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The confirm link from a confirmation email's plain-text part. */
export function confirmLinkFrom(text: string): string {
  const m = /https?:\/\/\S+\/confirm\/[A-Za-z0-9_-]{43}/.exec(text);
  if (!m) throw new Error(`no confirm link in:\n${text}`);
  return m[0];
}
