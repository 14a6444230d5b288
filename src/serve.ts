// Owns running paperboy as a service: ingest the seeds, then start every long-running part, and stop them in order.
import type { App } from './app.js';
import { ingestPaths, formatWarning } from './corpus/ingest.js';
import { createMessenger } from './mail/create-messenger.js';
import { createInboundServer, type InboundSubscriptions } from './mail/inbound.js';
import type { SubscriptionService } from './subscriptions/service.js';
import { startWeb, type RunningWeb } from './web/start.js';

export interface Service {
  web: RunningWeb;
  /** Bound inbound SMTP port, or null when INBOUND_SMTP_ENABLED=false. */
  inboundPort: number | null;
  stop(): Promise<void>;
}

/** The inbound listener's view of the subscription service. */
export function inboundSubscriptions(service: SubscriptionService): InboundSubscriptions {
  return {
    async subscribe(email) {
      service.subscribe(email, 'email');
    },
    async unsubscribeByToken(token) {
      return service.unsubscribeByToken(token) !== null;
    },
  };
}

export async function startService(app: App): Promise<Service> {
  const { config, log } = app;
  const report = ingestPaths(app.store, [config.SEEDS_DIR], app.clock);
  for (const w of report.warnings) log.warn(formatWarning(w));
  log.info({ pages: report.pages, entries: report.entries, added: report.added, updated: report.updated }, 'corpus ingested');

  // Stopped in reverse order of starting: nothing may send after the messenger closes.
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const messenger = createMessenger(config, log, app.clock);
    stops.push(() => messenger.close());
    const web = await startWeb(app, messenger);
    stops.push(() => web.stop());
    let inboundPort: number | null = null;
    if (config.INBOUND_SMTP_ENABLED) {
      const inbound = createInboundServer({ config, log, subscriptions: inboundSubscriptions(web.subscriptions.service) });
      inboundPort = await inbound.start();
      stops.push(() => inbound.close());
      log.info({ port: inboundPort, host: config.INBOUND_SMTP_HOST }, 'inbound mail listening');
    }
    return { web, inboundPort, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
