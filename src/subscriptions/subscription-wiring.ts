// Owns wiring the subscription parts together: service, confirmation email, and the worker that sends it.
import type { Config } from '../config.js';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Messenger } from '../mail/messenger.js';
import { loadConfirmEmail, type ConfirmEmailRenderer } from './confirm-email.js';
import { createConfirmationWorker, type ConfirmationWorker } from './confirmation-worker.js';
import { createSubscriptionService, type SubscriptionService } from './lifecycle.js';

export interface Subscriptions {
  service: SubscriptionService;
  worker: ConfirmationWorker;
  renderer: ConfirmEmailRenderer;
}

/**
 * Builds the service and its confirmation worker (not started: call `worker.start()` where the server starts, and
 * `await worker.stop()` before closing the messenger and the store). CLI commands use the service without starting
 * the worker: their queued confirmations go out from the running server's worker, since the queue is in the database.
 */
export async function createSubscriptions(deps: {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  messenger: Messenger;
  secret: string;
  pollMs?: number;
  onPreferencesChanged?: (subscriberId: number) => void;
}): Promise<Subscriptions> {
  const renderer = await loadConfirmEmail();
  let worker: ConfirmationWorker | null = null;
  const service = createSubscriptionService({
    store: deps.store,
    clock: deps.clock,
    log: deps.log,
    config: deps.config,
    secret: deps.secret,
    onConfirmationQueued: () => worker?.notify(),
    ...(deps.onPreferencesChanged ? { onPreferencesChanged: deps.onPreferencesChanged } : {}),
  });
  worker = createConfirmationWorker({
    repo: service.repo,
    messenger: deps.messenger,
    renderer,
    clock: deps.clock,
    log: deps.log,
    config: deps.config,
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
  });
  return { service, worker, renderer };
}
