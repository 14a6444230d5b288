// Owns the server side of the http bench: the real web app in its own process, so the load generator has its own CPU.
//
// Started by bench/http.ts with fork() (IPC channel) and the config in its environment. It runs the service exactly as
// `npm start` does (createApp, startService: seeds ingested, every route plugin, the confirmation worker running),
// except that mail goes to a null messenger, the scheduler is off (SCHEDULER_ENABLED=false, or the pre-created
// subscribers would get digests mid-run) and so is inbound SMTP. It creates the active subscribers the one-click
// unsubscribe load needs, then answers the parent's messages:
//   -> { type: 'ready', address, subscriberIds, papers }   once listening
//   <- { type: 'stats' }  -> { type: 'stats', stats }      subscriber counts, mails handed to the messenger, CPU, RSS
//   <- { type: 'stop' }   -> { type: 'stopped', stats }     after a clean stop; then the process exits
import { loadConfig } from '../src/config.js';
import { createApp, type App } from '../src/app.js';
import { createLogger } from '../src/log.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { startService } from '../src/service-runner.js';
import { createSubscriberRepository } from '../src/subscriptions/repository.js';
import { defaultPreferences } from '../src/subscriptions/preferences.js';
import { NullMessenger } from './null-messenger.js';

export interface ServerStats {
  subscribers: Record<string, number>;
  /** Confirmation emails the worker handed to the (null) messenger so far. */
  confirmationsSent: number;
  /** CPU seconds used by the server process so far (user + system). */
  cpuSeconds: number;
  rssMB: number;
}

export type ParentMessage = { type: 'stats' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; address: string; subscriberIds: number[]; papers: number }
  | { type: 'stats'; stats: ServerStats }
  | { type: 'stopped'; stats: ServerStats };

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/http-server.ts is started by bench/http.ts (needs an IPC channel)');
  const send = (m: ChildMessage) => process.send!(m);
  const config = loadConfig(process.env);
  const log = createLogger(config.LOG_LEVEL);
  const real = createApp(config, { log });
  const messenger = new NullMessenger();
  // The app with the null messenger in place of the configured one (which is made on first use, so never here).
  const app: App = { config: real.config, store: real.store, log: real.log, clock: real.clock, messenger, close: () => real.close() };
  // Generated pages first; startService ingests the seeds itself.
  const extraPages = process.env.BENCH_HTTP_EXTRA_PAGES;
  if (extraPages) ingestPaths(app.store, [extraPages], app.clock);

  // Active subscribers for the one-click unsubscribe load, inserted in one transaction like an import.
  const count = Number(process.env.BENCH_HTTP_SUBSCRIBERS ?? 0);
  const repo = createSubscriberRepository(app.store);
  const preferences = defaultPreferences({ digestSize: config.DIGEST_SIZE_DEFAULT, timeZone: config.DEFAULT_TIME_ZONE });
  const now = app.clock.now().toISOString();
  const subscriberIds = app.store.db.transaction(() => {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push(repo.insert({ email: `active-${i}@bench.example.org`, status: 'active', source: 'import', preferences }, now).id);
    return ids;
  })();

  const service = await startService(app, { port: 0 });
  const web = service.web;
  const stats = (): ServerStats => {
    const cpu = process.cpuUsage();
    return {
      subscribers: repo.countByStatus(),
      confirmationsSent: messenger.sent,
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
  };

  process.on('message', (m: ParentMessage) => {
    if (m.type === 'stats') send({ type: 'stats', stats: stats() });
    if (m.type === 'stop') {
      void (async () => {
        await service.stop();
        const final = stats();
        await messenger.close();
        await app.close();
        send({ type: 'stopped', stats: final });
        process.disconnect();
      })();
    }
  });
  // The parent going away (crash, Ctrl-C) must not leave a server behind.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 2000).unref());
  send({ type: 'ready', address: web.address, subscriberIds, papers: Number(app.store.db.prepare('SELECT COUNT(*) FROM papers').pluck().get()) });
}

main().catch((err) => {
  process.stderr.write(`bench http server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
