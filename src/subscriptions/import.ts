// Owns bulk import of a subscriber list: validate each row, insert in one transaction, say what happened and why.
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import { checkEmail, emailKey } from './email.js';
import { parseCsv, unguardCell } from './csv.js';
import { preferencesSchema, fieldErrors, PREFERENCE_FIELDS, RANKING_FIELDS, SCHEDULE_FIELDS, type Preferences } from './preferences.js';
import { prefParams } from './repository.js';

export const IMPORT_MESSAGES = {
  noEmailColumn: 'the file has no "email" column (and its first cell is not an address)',
  exists: 'already in the list',
  duplicate: 'appears earlier in the file',
  suppressed: (status: string) => `marked "${status}" in the file; not imported, so nobody who left is signed up again`,
} as const;

export const SCHEDULE_COLUMNS = SCHEDULE_FIELDS;
/** Issue 16's choices. A file without them (every export before them) imports as before: absent columns take the defaults. */
export const RANKING_COLUMNS = RANKING_FIELDS;
export const PREFERENCE_COLUMNS = PREFERENCE_FIELDS;

export interface ImportProblem {
  line: number;
  email: string;
  reason: string;
}

export interface ImportSummary {
  rows: number;
  added: number;
  skipped: ImportProblem[];
  rejected: ImportProblem[];
  /** Confirmation emails queued (imports without --confirmed); the running server's worker sends them. */
  confirmationsQueued: number;
}

/**
 * Imports CSV text. With `confirmed`, rows become active at once (an admin moving a list that already opted in);
 * otherwise they are pending and each gets a queued confirmation. Everything happens in one transaction with
 * prepared statements, so 100,000 rows take seconds and a failure leaves the list as it was.
 */
export function importSubscribersCsv(store: Store, clock: Clock, text: string, opts: { confirmed: boolean; defaults: Preferences }): ImportSummary {
  const records = parseCsv(text);
  const summary: ImportSummary = { rows: 0, added: 0, skipped: [], rejected: [], confirmationsQueued: 0 };
  if (records.length === 0) return summary;

  const header = records[0]!.cells.map((c) => c.trim().toLowerCase());
  let emailCol = header.indexOf('email');
  let body = records.slice(1);
  if (emailCol < 0) {
    // A bare list of addresses, one per line, is common enough to accept without a header.
    if (!('email' in checkEmail(unguardCell(records[0]!.cells[0] ?? '')))) throw new Error(IMPORT_MESSAGES.noEmailColumn);
    emailCol = 0;
    body = records;
    header.length = 0;
  }
  const prefCols = PREFERENCE_COLUMNS.map((name) => [name, header.indexOf(name)] as const).filter(([, i]) => i >= 0);
  const statusCol = header.indexOf('status');

  const insert = store.q('subscriber-insert-or-ignore');
  const claim = store.q('subscriber-claim-confirmation-slot');
  const enqueue = store.q('subscriber-confirmation-enqueue');
  const now = clock.now().toISOString();
  const cutoff = new Date(clock.now().getTime() - 24 * 3600_000).toISOString();
  const seen = new Set<string>();

  store.db
    .transaction(() => {
      for (const { line, cells } of body) {
        summary.rows++;
        const raw = unguardCell(cells[emailCol] ?? '');
        const checked = checkEmail(raw);
        if ('error' in checked) {
          summary.rejected.push({ line, email: raw, reason: checked.error });
          continue;
        }
        const email = checked.email;
        // One mailbox whatever the case (migration 070): a second spelling in the file is a duplicate too.
        const key = emailKey(email);
        if (seen.has(key)) {
          summary.skipped.push({ line, email, reason: IMPORT_MESSAGES.duplicate });
          continue;
        }
        seen.add(key);
        const status = statusCol >= 0 ? (cells[statusCol] ?? '').trim().toLowerCase() : '';
        if (status === 'unsubscribed' || status === 'bounced') {
          summary.skipped.push({ line, email, reason: IMPORT_MESSAGES.suppressed(status) });
          continue;
        }
        let prefs = opts.defaults;
        if (prefCols.length > 0) {
          const input: Record<string, unknown> = { ...opts.defaults };
          for (const [name, i] of prefCols) {
            const v = unguardCell((cells[i] ?? '').trim());
            if (v !== '') input[name] = v;
          }
          const parsed = preferencesSchema.safeParse(input);
          if (!parsed.success) {
            const errs = fieldErrors(parsed.error);
            summary.rejected.push({
              line,
              email,
              reason: Object.entries(errs)
                .map(([k, m]) => `${k}: ${m}`)
                .join('; '),
            });
            continue;
          }
          prefs = parsed.data;
        }
        const r = insert.run({
          email,
          status: opts.confirmed ? 'active' : 'pending',
          source: 'import',
          ...prefParams(prefs),
          now,
          confirmed_at: opts.confirmed ? now : null,
        });
        if (r.changes === 0) {
          summary.skipped.push({ line, email, reason: IMPORT_MESSAGES.exists });
          continue;
        }
        summary.added++;
        if (!opts.confirmed && claim.run({ id: r.lastInsertRowid, now, cutoff }).changes === 1) {
          enqueue.run({ subscriber_id: r.lastInsertRowid, now });
          summary.confirmationsQueued++;
        }
      }
    })
    .immediate();
  return summary;
}
