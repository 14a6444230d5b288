// Owns the subscriber CSV export, one format for the CLI (`subscribers export`) and the admin's download.
import { csvRow } from './csv.js';
import { RANKING_COLUMNS, SCHEDULE_COLUMNS } from './import.js';
import type { SubscriberRepository, SubscriberStatus } from './repository.js';

export const EXPORT_COLUMNS = [
  'email',
  'status',
  ...SCHEDULE_COLUMNS,
  'source',
  'created_at',
  'confirmed_at',
  'unsubscribed_at',
  // Issue 16, last so the columns before keep their places in files and scripts made from older exports.
  ...RANKING_COLUMNS,
] as const;

/**
 * The CSV in chunks (the header, then one chunk per page of 1000 rows): keyset pages, so memory stays flat and no
 * read is held open across the table however slowly the chunks are written out.
 */
export function* exportCsvChunks(repo: Pick<SubscriberRepository, 'page'>, status?: SubscriberStatus): Generator<string, number> {
  yield csvRow([...EXPORT_COLUMNS]);
  let n = 0;
  for (let after = 0; ; ) {
    const page = repo.page(after, 1000, status);
    if (page.length === 0) break;
    let chunk = '';
    for (const s of page) {
      chunk += csvRow([
        s.email,
        s.status,
        s.frequency,
        s.weekday,
        s.kind,
        s.topics.join(', '),
        s.digest_size,
        s.delivery_hour,
        s.time_zone,
        s.source,
        s.created_at,
        s.confirmed_at,
        s.unsubscribed_at,
        s.muted_topics.join(', '),
        s.followed_authors.join(', '),
        s.only_with_code ? 'true' : 'false',
        s.selection_mode,
        s.relevance_bar,
        s.trend_weight,
      ]);
    }
    yield chunk;
    n += page.length;
    after = page.at(-1)!.id;
  }
  return n;
}
