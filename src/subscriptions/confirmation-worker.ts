// Owns sending queued confirmation emails: claims due rows, mints a token per attempt, retries temporary failures.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { SendError, type Messenger } from '../mail/messenger.js';
import type { ConfirmEmailRenderer } from './confirm-email.js';
import { confirmUrl } from './subscriber-links.js';
import type { ConfirmationRow, SubscriberRepository } from './repository.js';
import { newConfirmToken } from './tokens.js';

export interface ConfirmationWorkerConfig {
  PUBLIC_URL: string;
  MAIL_DOMAIN: string;
  MAIL_FROM: string;
  SENDER_ADDRESS_LINE: string;
  CONFIRM_TOKEN_TTL_HOURS: number;
  SEND_MAX_ATTEMPTS: number;
  SEND_RETRY_BASE_SECONDS: number;
  /** After an unreachable mail server, the queue waits this long before the next try, doubling up to the max. */
  SEND_PROBE_INITIAL_MS: number;
  SEND_PROBE_MAX_MS: number;
}

export interface ConfirmationWorkerDeps {
  repo: SubscriberRepository;
  messenger: Messenger;
  renderer: ConfirmEmailRenderer;
  clock: Clock;
  log: Logger;
  config: ConfirmationWorkerConfig;
  /** How often to look for due retries when nobody calls `notify()`. */
  pollMs?: number;
  /** Sends in flight at once: bounded, so a slow server cannot pile up connections. */
  concurrency?: number;
}

const MAX_BACKOFF_MS = 6 * 60 * 60 * 1000;
const PURGE_EVERY_MS = 60 * 60 * 1000;
const KEEP_HISTORY_MS = 30 * 24 * 60 * 60 * 1000;

export type ConfirmationWorker = ReturnType<typeof createConfirmationWorker>;

export function createConfirmationWorker(deps: ConfirmationWorkerDeps) {
  const { repo, messenger, renderer, clock, log, config } = deps;
  const pollMs = deps.pollMs ?? 5000;
  const concurrency = deps.concurrency ?? 2;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = true;
  let lastPurge = 0;
  /** Set while the mail server cannot be reached: the drain stops, and the next try waits this long (doubling). */
  let probeMs = 0;
  /** Counts unreachable sends, so a lane can tell its own send met one. */
  let unreachable = 0;

  function backoffMs(attempts: number): number {
    return Math.min(MAX_BACKOFF_MS, config.SEND_RETRY_BASE_SECONDS * 1000 * 2 ** Math.max(0, attempts - 1));
  }

  async function sendOne(job: ConfirmationRow): Promise<void> {
    const at = clock.now();
    const sub = repo.byId(job.subscriber_id);
    // An unsubscribed address with preferences waiting is someone asking to come back: its owner decides by the link.
    const asked = sub?.status === 'pending' || (sub?.status === 'unsubscribed' && sub.pending_preferences !== null);
    if (!sub || !asked) {
      // Confirmed, unsubscribed or gone since it was queued: nothing to confirm any more.
      repo.confirmationFail(job.id, `subscriber is ${sub?.status ?? 'deleted'}`, at.toISOString());
      return;
    }
    const { token, hash } = newConfirmToken();
    const expires = new Date(at.getTime() + config.CONFIRM_TOKEN_TTL_HOURS * 3600_000).toISOString();
    repo.insertConfirmToken({ token_hash: hash, subscriber_id: sub.id, now: at.toISOString(), expires_at: expires });
    try {
      const mail = renderer.render({
        email: sub.email,
        confirmUrl: confirmUrl(config, token),
        ttlHours: config.CONFIRM_TOKEN_TTL_HOURS,
        senderLine: config.SENDER_ADDRESS_LINE,
      });
      const res = await messenger.send({ to: sub.email, from: config.MAIL_FROM, ...mail, headers: { 'Auto-Submitted': 'auto-generated' } });
      repo.confirmationSent(job.id, clock.now().toISOString());
      probeMs = 0;
      log.info({ subscriberId: sub.id, messageId: res.messageId }, 'confirmation sent');
    } catch (err) {
      // The link in a message that did not leave must not work later.
      repo.deleteConfirmToken(hash);
      const e = err as Error;
      const nowIso = clock.now().toISOString();
      if (err instanceof SendError && err.unreachable) {
        // The server's state, not the message's: no attempt spent; the lanes stop until the next try.
        unreachable++;
        probeMs = probeMs === 0 ? config.SEND_PROBE_INITIAL_MS : Math.min(probeMs * 2, config.SEND_PROBE_MAX_MS);
        repo.confirmationUnsent(job.id, new Date(clock.now().getTime() + probeMs).toISOString(), e.message, nowIso);
        log.warn({ subscriberId: sub.id, retryInMs: probeMs, err: e.message }, 'mail server unreachable: confirmation waits, no attempt spent');
        return;
      }
      const permanent = err instanceof SendError && err.failure === 'permanent';
      if (permanent || job.attempts >= config.SEND_MAX_ATTEMPTS) {
        repo.confirmationFail(job.id, e.message, nowIso);
        if (err instanceof SendError && err.hardBounce) repo.markBounced(sub.id, err.response ?? e.message, nowIso);
        log.warn({ subscriberId: sub.id, attempts: job.attempts, err: e.message }, 'confirmation failed');
      } else {
        const next = new Date(clock.now().getTime() + backoffMs(job.attempts)).toISOString();
        repo.confirmationRetry(job.id, next, e.message, nowIso);
        log.info({ subscriberId: sub.id, attempts: job.attempts, next, err: e.message }, 'confirmation will be retried');
      }
    }
  }

  /** Sends everything due now; resolves with how many rows it handled. */
  async function drain(): Promise<number> {
    let handled = 0;
    const t = clock.now().getTime();
    if (t - lastPurge >= PURGE_EVERY_MS) {
      lastPurge = t;
      repo.purgeBefore(new Date(t - KEEP_HISTORY_MS).toISOString());
    }
    const lane = async () => {
      for (let job = repo.claimConfirmation(clock.now().toISOString()); job; job = repo.claimConfirmation(clock.now().toISOString())) {
        const before = unreachable;
        await sendOne(job);
        handled++;
        // Unreachable on this send: stop, rather than take every due row to a server that is down.
        if (unreachable > before) break;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return handled;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void kick(), ms);
    timer.unref();
  }

  async function kick(): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = drain();
    try {
      await running;
    } catch (err) {
      log.error({ err }, 'confirmation worker');
    } finally {
      running = null;
    }
    if (again && !stopped) {
      again = false;
      return kick();
    }
    schedule(pollMs);
  }

  return {
    /** Picks up rows left `sending` by a crash, then sends and polls until `stop()`. */
    start(): void {
      if (!stopped) return;
      stopped = false;
      const n = repo.requeueStuckConfirmations(clock.now().toISOString());
      if (n) log.warn({ n }, 'requeued confirmations interrupted mid-send');
      schedule(0);
    },
    /** Something was queued: send it now instead of at the next poll. */
    notify(): void {
      if (!stopped) schedule(0);
    },
    /** Runs one pass by hand (tests, CLI); independent of start/stop. */
    runOnce: () => drain(),
    /** Resolves when no pass is running. */
    async idle(): Promise<void> {
      while (running) await running.catch(() => 0);
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      while (running) await running.catch(() => 0);
    },
  };
}
