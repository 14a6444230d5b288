// Owns running paperboy as a service: ingest the seeds, then start every long-running part, and stop them in order.
import { appRenderer, digestSourceFor, type App } from './app.js';
import { ingestPaths, formatWarning } from './corpus/ingest.js';
import { createInboundServer, type InboundSubscriptions } from './mail/inbound.js';
import { createOutbox } from './mail/outbox.js';
import { registerOutboxRoutes } from './admin/outbox-routes.js';
import { adminCheck, registerAdminLogin, requireAdmin } from './admin/auth.js';
import { registerArchiveRoutes } from './archive/routes.js';
import { registerAdminPreviewRoutes } from './admin/preview-routes.js';
import { registerSubscriberRoutes } from './admin/subscriber-routes.js';
import { createSelector } from './digest/select.js';
import { createRelevance, type Relevance } from './learn/relevance.js';
import { keepMjmlLoaded, stopMjml } from './render/mjml.js';
import { startDelivery, type Delivery } from './delivery/delivery-wiring.js';
import { readerLinks } from './delivery/reader-links.js';
import type { SubscriptionService } from './subscriptions/lifecycle.js';
import { startWeb, type RunningWeb } from './web/start.js';
import { createFetcher, type FetcherDeps } from './corpus/fetcher.js';
import { startFetchScheduler, type FetchScheduler } from './corpus/fetch-scheduler.js';
import { checkPortsFree, portError, type Listener } from './port-check.js';
import { deliverabilityWarnings } from './mail/deliverability.js';
import { createReturnProcessing } from './delivery/bounce-processing.js';
import { installTag } from './secrets.js';
import { registerFeedbackRoutes } from './web/routes/feedback.js';
import type { FeedbackListener } from './subscriptions/feedback.js';

export interface Service {
  web: RunningWeb;
  delivery: Delivery;
  /** Fetches the live sources on start and on FETCH_SCHEDULE; null when FETCH_ENABLED=false. */
  fetching: FetchScheduler | null;
  /** Bound inbound SMTP port, or null when INBOUND_SMTP_ENABLED=false. */
  inboundPort: number | null;
  /** The reader models: call `relevance.onFeedback(subscriberId)` after writing or undoing a feedback row. */
  relevance: Relevance;
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

export interface ServiceOptions {
  port?: number;
  /** Over the fetcher's defaults (its HTTP timing, for tests). */
  fetcher?: Partial<Pick<FetcherDeps, 'http' | 'arxivIntervalMs' | 'dailyPageSize'>>;
  /** Told when a reader's feedback changes (the ranking's background refit); none by default. */
  feedbackListener?: FeedbackListener;
}

/** How long `serve` keeps MJML loaded after a compile: an admin clicking through previews never waits for its load. */
const MJML_KEEP_MS = 10 * 60_000;

export async function startService(app: App, opts: ServiceOptions = {}): Promise<Service> {
  const { config, log, store, clock } = app;
  // Previews and confirmation emails come now and then: MJML stays loaded (on its thread) for minutes, not a second.
  keepMjmlLoaded(MJML_KEEP_MS);
  // First of all: a taken port is a one-line error with the setting to change, before anything has started.
  const webListener: Listener = { setting: 'PORT', host: config.HOST, port: opts.port ?? config.PORT };
  const inboundListener: Listener = { setting: 'INBOUND_SMTP_PORT', host: config.INBOUND_SMTP_HOST, port: config.INBOUND_SMTP_PORT };
  await checkPortsFree(config.INBOUND_SMTP_ENABLED ? [webListener, inboundListener] : [webListener]);
  // Mail that is really sent: each setting providers would punish, once, with what to change (docs/mail.md).
  if (config.MAIL_TRANSPORT === 'smtp') for (const w of deliverabilityWarnings(config)) log.warn({ setting: w.setting }, `deliverability: ${w.message}`);
  const report = ingestPaths(store, [config.SEEDS_DIR], clock, { chunkMs: config.INGEST_CHUNK_MS });
  for (const w of report.warnings) log.warn(formatWarning(w));
  log.info({ pages: report.pages, entries: report.entries, added: report.added, updated: report.updated }, 'corpus ingested');

  // One selector (scores the corpus once per date) and one renderer (templates compiled once) for every part.
  // Pools older than a minute are rebuilt, so pages and runs see papers ingested while the service runs.
  // The reader models: refit in the background when feedback arrives; the selector only reads what they stored.
  const relevance = createRelevance({ store, clock, log });
  const selector = createSelector({ store, clock, poolMaxAgeMs: 60_000, relevance });
  const renderer = appRenderer(app);
  // One guard for every admin route: sign-in (cookie) or Bearer, one lockout, one set of answers.
  const auth = { config };
  const guard = requireAdmin(auth);
  const delivery = startDelivery({
    config,
    store,
    clock,
    log,
    messenger: app.messenger,
    digest: digestSourceFor({ store, clock, config }, { selector, renderer }),
    guard,
  });

  // The live sources: fetched in the background (a fetch that fails, or never answers, delays nothing here).
  const fetching = config.FETCH_ENABLED
    ? startFetchScheduler(createFetcher({ store, clock, config, ...opts.fetcher }), log, { schedule: config.FETCH_SCHEDULE, atStart: true })
    : null;

  // Stopped in reverse order of starting; the messenger closes with the app, after everything that sends.
  const stops: Array<() => Promise<void>> = [stopMjml, async () => relevance.close(), async () => fetching?.stop(), () => delivery.close()];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  // One reader of the outbox directory: the admin's outbox pages list it, an erase removes a reader's messages from it.
  const outbox = createOutbox(config.OUTBOX_DIR);
  try {
    const web = await startWeb(app, app.messenger, {
      onListenError: (err) => portError(err, webListener),
      // A reader's topics and muted topics train their model as their taps do.
      onPreferencesChanged: (id) => relevance.onFeedback(id),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      routes: [
        (server) => registerAdminLogin(server, auth),
        (server) => registerOutboxRoutes(server, { config, outbox, guard }),
        (server, web) =>
          registerArchiveRoutes(server, { store, clock, config, selector, renderer, views: web.views, isAdmin: adminCheck(auth), secret: config.SECRET_KEY }),
        (server) =>
          registerAdminPreviewRoutes(server, {
            store,
            clock,
            config,
            selector,
            renderer,
            guard,
            linksFor: (s) => readerLinks(config, config.SECRET_KEY, s.id),
          }),
        (server) => delivery.routes(server),
        (server, deps) => registerFeedbackRoutes(server, deps, { listener: opts.feedbackListener ?? relevance }),
        (server) => registerSubscriberRoutes(server, { store, clock, config, secret: config.SECRET_KEY, guard, outbox }),
      ],
    });
    stops.push(() => web.stop());
    let inboundPort: number | null = null;
    if (config.INBOUND_SMTP_ENABLED) {
      const returns = createReturnProcessing({ store, config, clock, log, secret: config.SECRET_KEY, install: installTag(config) });
      const inbound = createInboundServer({ config, log, subscriptions: inboundSubscriptions(web.subscriptions.service), returns });
      inboundPort = await inbound.start().catch((err: unknown) => {
        throw portError(err, inboundListener);
      });
      stops.push(() => inbound.close());
      log.info({ port: inboundPort, host: config.INBOUND_SMTP_HOST }, 'inbound mail listening');
    }
    return { web, delivery, fetching, inboundPort, relevance, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
