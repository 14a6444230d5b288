// Owns the clock tick: node-cron every minute plans everyone due (see schedule.ts for "due") and sends, one tick at a time.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import type { DeliveryService, RunSummary } from './send-runs.js';

export interface Scheduler {
  /** One tick by hand (tests, and the first tick at start so a restart catches up at once). */
  tick(): Promise<RunSummary | null>;
  stop(): Promise<void>;
}

export function startScheduler(service: DeliveryService, log: Logger, opts: { cron?: boolean } = {}): Scheduler {
  let running: Promise<RunSummary | null> | null = null;

  const tick = (): Promise<RunSummary | null> => {
    // A tick that finds the previous one still sending just lets it finish: its drain picks up new rows.
    if (running) return running;
    running = service
      .run({ trigger: 'cron', mode: 'due' })
      .then((summary) => {
        if (summary.plan.queued + summary.plan.skipped > 0) log.info({ run: summary.runId, plan: summary.plan, counts: summary.counts }, 'scheduled send');
        return summary;
      })
      .catch((err: unknown) => {
        log.error({ err }, 'scheduled send failed');
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };

  let task: ScheduledTask | null = null;
  if (opts.cron !== false) {
    task = cron.schedule('* * * * *', () => tick(), { name: 'paperboy-deliveries', noOverlap: true, unref: true });
  }
  return {
    tick,
    async stop() {
      await task?.destroy();
      await running;
    },
  };
}
