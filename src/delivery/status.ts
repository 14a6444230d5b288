// Owns the delivery and run statuses shared by the ledger, the sender, the CLI and the dashboard.
import { z } from 'zod';

export const DeliveryStatus = z.enum(['queued', 'sending', 'sent', 'failed', 'bounced', 'unknown', 'skipped']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

export const RunTrigger = z.enum(['cron', 'cli', 'http']);
export type RunTrigger = z.infer<typeof RunTrigger>;

export const RunMode = z.enum(['due', 'force', 'to', 'test']);
export type RunMode = z.infer<typeof RunMode>;

export const RunStatus = z.enum(['running', 'done', 'failed']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunRow = z.object({
  id: z.string(),
  trigger: RunTrigger,
  mode: RunMode,
  kind: z.string().nullable(),
  target: z.string().nullable(),
  dry_run: z.number(),
  idempotency_key: z.string().nullable(),
  request_hash: z.string().nullable(),
  status: RunStatus,
  planned: z.number(),
  skipped: z.number(),
  error: z.string().nullable(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  /** JSON array of the edition ids the run met. */
  editions: z.string().default('[]'),
  /** Daily or weekly subscribers only; null for everyone. */
  frequency: z.enum(['daily', 'weekly']).nullable().default(null),
});
export type RunRow = z.infer<typeof RunRow>;

/** Deliveries of one run by status; `retrying` = queued after a failed attempt. */
export type DeliveryCounts = Record<DeliveryStatus, number> & { retrying: number; total: number };

export function emptyCounts(): DeliveryCounts {
  return { queued: 0, sending: 0, sent: 0, failed: 0, bounced: 0, unknown: 0, skipped: 0, retrying: 0, total: 0 };
}

/** One edition as a whole (every run's rows): the part of a summary that says whether everyone got it. */
export const EditionState = z.object({
  id: z.number().int(),
  kind: z.string(),
  frequency: z.string(),
  local_date: z.string(),
  sent: z.number().int(),
  waiting: z.number().int(),
  failed: z.number().int(),
  bounced: z.number().int(),
  unknown: z.number().int(),
  skipped: z.number().int(),
});
export type EditionState = z.infer<typeof EditionState>;
