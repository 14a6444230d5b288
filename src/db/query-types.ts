// Owns the registry of named queries: each one's parameters and row shape, as types for `q` and as runtime lists for the test.
import type Database from 'better-sqlite3';

/**
 * A column or parameter's value type. `?` allows NULL. The runtime strings let test/db-query-types.test.ts hold each
 * declaration against the statement SQLite prepared, so the declared type cannot drift from the SQL unnoticed.
 */
export type Tag = 'int' | 'int?' | 'text' | 'text?' | 'blob' | 'blob?';
interface TagTypes {
  int: number;
  'int?': number | null;
  text: string;
  'text?': string | null;
  blob: Buffer;
  'blob?': Buffer | null;
}
// better-sqlite3 binds a bigint too (`lastInsertRowid` is one when the rowid is large).
interface ParamTypes extends Omit<TagTypes, 'int' | 'int?'> {
  int: number | bigint;
  'int?': number | bigint | null;
}

type Columns = Readonly<Record<string, Tag>>;
type RowType<C extends Columns> = { -readonly [K in keyof C]: TagTypes[C[K]] };
type ParamObject<C extends Columns> = { -readonly [K in keyof C]: ParamTypes[C[K]] };

export interface QuerySpec {
  /** Positional parameters in `?` order, or the names of `@name` parameters. */
  readonly params: { readonly positional: readonly Tag[] } | { readonly named: Columns };
  /** Result columns in SELECT (or RETURNING) order; absent for a statement that returns no rows. */
  readonly row?: Columns;
}

const pos = <const T extends readonly Tag[]>(...positional: T) => ({ positional });
const named = <const C extends Columns>(c: C) => ({ named: c });
const row = <const C extends Columns>(c: C) => c;

// Whole-table rows for `SELECT *`: the column order of the migrated table.
const PAPER = row({
  id: 'int',
  title_key: 'text',
  title: 'text',
  abstract: 'text',
  authors: 'int?',
  published_on: 'text?',
  upvotes: 'int?',
  first_listed_on: 'text?',
  links: 'text',
  first_seen_at: 'text',
  updated_at: 'text',
  arxiv_id: 'text?',
  author_names: 'text',
  tldr: 'text?',
  organization: 'text?',
  comments: 'int?',
});
const PAPER_WITH_PAGES = row({ ...PAPER, page_count: 'int' });
// The subscriber columns every subscriber row starts with, in table order.
const SUBSCRIBER_HEAD = {
  id: 'int',
  email: 'text',
  status: 'text',
  frequency: 'text',
  weekday: 'int',
  kind: 'text',
  topics: 'text',
  digest_size: 'int',
  delivery_hour: 'int',
  time_zone: 'text',
} as const;
const SUBSCRIBER = row({
  ...SUBSCRIBER_HEAD,
  source: 'text',
  created_at: 'text',
  updated_at: 'text',
  confirmed_at: 'text?',
  unsubscribed_at: 'text?',
  last_confirmation_sent_at: 'text?',
  bounced_at: 'text?',
  bounce_reason: 'text?',
  pending_preferences: 'text?',
  complained_at: 'text?',
  muted_topics: 'text',
  followed_authors: 'text',
  only_with_code: 'int',
  selection_mode: 'text',
  relevance_bar: 'int',
  trend_weight: 'int',
});
const DELIVERY_SUBSCRIBER = row({ ...SUBSCRIBER_HEAD, created_at: 'text', confirmed_at: 'text?' });
const SEND_RUN = row({
  id: 'text',
  trigger: 'text',
  mode: 'text',
  kind: 'text?',
  target: 'text?',
  dry_run: 'int',
  idempotency_key: 'text?',
  request_hash: 'text?',
  status: 'text',
  planned: 'int',
  skipped: 'int',
  error: 'text?',
  started_at: 'text',
  finished_at: 'text?',
  editions: 'text',
  frequency: 'text?',
});
const CONFIRMATION = row({
  id: 'int',
  subscriber_id: 'int',
  status: 'text',
  attempts: 'int',
  next_attempt_at: 'text',
  last_error: 'text?',
  created_at: 'text',
  updated_at: 'text',
  sent_at: 'text?',
});
const SOURCE = row({ file: 'text', line: 'int', position: 'int', listed_on: 'text?' });
const ID = row({ id: 'int' });
const COUNT = row({ n: 'int' });
const STATUS_COUNT = row({ status: 'text', n: 'int' });

// The issue-16 choices, written wherever preferences are (migration 073).
const RANKING_PREFS = {
  muted_topics: 'text',
  followed_authors: 'text',
  only_with_code: 'int',
  selection_mode: 'text',
  relevance_bar: 'int',
  trend_weight: 'int',
} as const;
const NEW_SUBSCRIBER = named({
  email: 'text',
  status: 'text',
  frequency: 'text',
  weekday: 'int',
  kind: 'text',
  topics: 'text',
  digest_size: 'int',
  delivery_hour: 'int',
  time_zone: 'text',
  source: 'text',
  now: 'text',
  confirmed_at: 'text?',
  ...RANKING_PREFS,
});
const PAPER_INSERT = ['text', 'text', 'text', 'int?', 'text?', 'int?', 'text?', 'text', 'text', 'text'] as const;
const CONFIRMATION_RETRY = named({ id: 'int', next_attempt_at: 'text', error: 'text', now: 'text' });

/** Every `-- name:` block of src/db/queries/*.sql; the test fails on a name missing here or here only. */
export const QUERIES = {
  // deliveries.sql
  'delivery-edition-ensure': { params: pos('text', 'text', 'text', 'text') },
  'delivery-edition-id': { params: pos('text', 'text', 'text'), row: ID },
  'delivery-variant-id': { params: pos('int', 'text'), row: ID },
  'delivery-variant-insert': {
    params: named({ edition_id: 'int', key: 'text', subject: 'text', html: 'text', text: 'text', paper_count: 'int', now: 'text' }),
  },
  'delivery-variant-get': {
    params: pos('int'),
    row: row({ id: 'int', edition_id: 'int', kind: 'text', frequency: 'text', subject: 'text', html: 'text', text: 'text' }),
  },
  'delivery-piece-get': { params: pos('int', 'text'), row: row({ html: 'text', text: 'text' }) },
  'mjml-compiled-get': { params: pos('text'), row: row({ html: 'text', errors: 'text' }) },
  'mjml-compiled-put': { params: named({ key: 'text', html: 'text', errors: 'text', created_at: 'text' }) },
  'mjml-compiled-prune': { params: named({ keep: 'int' }) },
  'delivery-subscribers-page': { params: named({ after: 'int', kind: 'text?', limit: 'int' }), row: DELIVERY_SUBSCRIBER },
  'delivery-subscriber-by-email': { params: pos('text'), row: DELIVERY_SUBSCRIBER },
  'delivery-subscriber-state': {
    params: named({ id: 'int', frequency: 'text' }),
    row: row({ latest_period: 'text?', outstanding: 'int' }),
  },
  'delivery-insert': {
    params: named({
      edition_id: 'int',
      subscriber_id: 'int',
      frequency: 'text',
      period: 'text',
      variant_id: 'int?',
      paper_ids: 'text',
      status: 'text',
      skip_reason: 'text?',
      run_id: 'text?',
      now: 'text',
    }),
  },
  'delivery-due-page': {
    params: named({ after: 'int', now: 'text', limit: 'int' }),
    row: row({ id: 'int', edition_id: 'int', subscriber_id: 'int', variant_id: 'int?', attempts: 'int', email: 'text', subscriber_status: 'text' }),
  },
  'delivery-claim-batch': { params: named({ batch: 'text', now: 'text' }), row: ID },
  'delivery-mark-sent-batch': { params: named({ batch: 'text', now: 'text' }), row: ID },
  'delivery-record-sent-papers-batch': { params: pos('text') },
  'delivery-mark-retry': { params: named({ id: 'int', next: 'text', response: 'text', now: 'text', maybe_delivered: 'int' }) },
  'delivery-mark-final': { params: named({ id: 'int', status: 'text', response: 'text', now: 'text' }) },
  'delivery-mark-skipped': { params: named({ id: 'int', reason: 'text', now: 'text' }) },
  'delivery-suppress-subscriber': { params: named({ id: 'int', reason: 'text', now: 'text' }) },
  'delivery-mark-on-wire': { params: named({ id: 'int', now: 'text' }) },
  'delivery-orphans-requeue': { params: named({ now: 'text' }) },
  'delivery-orphans-to-unknown': { params: pos('text') },
  'delivery-unknown-requeue': { params: named({ now: 'text', recovered_at: 'text' }) },
  'delivery-unknown-record-papers': { params: pos('text') },
  'lease-get': { params: pos('text'), row: row({ name: 'text', holder: 'text', expires_at: 'text' }) },
  'lease-put': { params: named({ name: 'text', holder: 'text', expires_at: 'text', now: 'text' }) },
  'lease-holder': { params: pos('text'), row: row({ holder: 'text', acquired_at: 'text?', expires_at: 'text' }) },
  'lease-release': { params: pos('text', 'text') },
  'run-insert': {
    params: named({
      id: 'text',
      trigger: 'text',
      mode: 'text',
      kind: 'text?',
      target: 'text?',
      dry_run: 'int',
      idempotency_key: 'text?',
      request_hash: 'text?',
      frequency: 'text?',
      now: 'text',
    }),
  },
  'run-get': { params: pos('text'), row: SEND_RUN },
  'run-get-by-key': { params: pos('text'), row: SEND_RUN },
  'run-set-planned': { params: named({ id: 'text', planned: 'int', skipped: 'int', editions: 'text' }) },
  'editions-waiting': { params: pos(), row: row({ edition_id: 'int' }) },
  'edition-state': {
    params: pos('int'),
    row: row({
      id: 'int',
      kind: 'text',
      frequency: 'text',
      local_date: 'text',
      sent: 'int',
      waiting: 'int',
      failed: 'int',
      bounced: 'int',
      unknown: 'int',
      skipped: 'int',
    }),
  },
  'run-finish': { params: named({ id: 'text', status: 'text', error: 'text?', now: 'text' }) },
  'run-delete': { params: pos('text') },
  'run-delivery-counts': { params: pos('text'), row: row({ status: 'text', n: 'int', retrying: 'int?' }) },
  'run-wait-reasons': { params: pos('text'), row: row({ reason: 'text', n: 'int' }) },
  'run-due-left': { params: named({ id: 'text', now: 'text' }), row: COUNT },
  'runs-recent': { params: pos('int'), row: SEND_RUN },
  'dash-subscribers-by-status': { params: pos(), row: STATUS_COUNT },
  'dash-subscriber-history': {
    params: pos(),
    row: row({ status: 'text', created_at: 'text', confirmed_at: 'text?', unsubscribed_at: 'text?', bounced_at: 'text?' }),
  },
  'run-failures': {
    params: pos('text', 'int'),
    row: row({ id: 'int', email: 'text', status: 'text', attempts: 'int', smtp_response: 'text?', updated_at: 'text' }),
  },
  'dash-sends-per-day': { params: pos('text'), row: row({ day: 'text', n: 'int' }) },
  'dash-failures': {
    params: pos('int'),
    row: row({ id: 'int', email: 'text', status: 'text', attempts: 'int', smtp_response: 'text?', updated_at: 'text' }),
  },
  'delivery-mark-unsent': { params: named({ id: 'int', response: 'text', now: 'text' }) },

  // feedback.sql
  'feedback-upsert': {
    params: named({ subscriber_id: 'int', paper_id: 'int', signal: 'int', source: 'text', now: 'text' }),
    row: row({ id: 'int' }),
  },
  'feedback-delete': { params: pos('int', 'int') },
  'feedback-get': {
    params: pos('int', 'int'),
    row: row({ id: 'int', subscriber_id: 'int', paper_id: 'int', signal: 'int', source: 'text', created_at: 'text' }),
  },
  'feedback-by-subscriber': {
    params: pos('int', 'int'),
    row: row({ id: 'int', paper_id: 'int', signal: 'int', source: 'text', created_at: 'text', title: 'text' }),
  },
  'feedback-count-by-subscriber': { params: pos('int'), row: row({ n: 'int' }) },
  'feedback-sent-deliveries': {
    params: pos('int', 'int'),
    row: row({ id: 'int', paper_ids: 'text', sent_at: 'text', kind: 'text', frequency: 'text', local_date: 'text' }),
  },
  // learn.sql
  'learn-corpus-version': { params: pos(), row: row({ generation: 'int', n: 'int', updated: 'text' }) },
  'learn-corpus-text': { params: pos(), row: row({ id: 'int', title: 'text', abstract: 'text', author_names: 'text', links: 'text' }) },
  'learn-reader': {
    params: pos('int'),
    row: row({
      topics: 'text',
      muted_topics: 'text',
      followed_authors: 'text',
      only_with_code: 'int',
      selection_mode: 'text',
      relevance_bar: 'int',
      trend_weight: 'int',
      weights: 'blob?',
      liked: 'text?',
    }),
  },
  'learn-feedback-for-fit': { params: pos('int'), row: row({ paper_id: 'int', signal: 'int' }) },
  'learn-model-upsert': { params: named({ subscriber_id: 'int', weights: 'blob', liked: 'text', feedback_count: 'int', now: 'text' }) },
  'learn-model-delete': { params: pos('int') },
  'learn-model-size': { params: pos('int'), row: row({ subscriber_id: 'int', bytes: 'int', feedback_count: 'int' }) },

  // bounces.sql
  'bounce-delivery': { params: pos('int'), row: row({ id: 'int', subscriber_id: 'int', edition_id: 'int', message_id: 'text?', email: 'text' }) },
  'bounce-insert': {
    params: named({
      subscriber_id: 'int?',
      delivery_id: 'int?',
      edition_id: 'int?',
      email: 'text',
      severity: 'text',
      status: 'text?',
      action: 'text?',
      diagnostic: 'text?',
      source: 'text',
      now: 'text',
    }),
  },
  'bounce-soft-count': { params: named({ id: 'int', since: 'text' }), row: COUNT },
  'complaint-insert': {
    params: named({ subscriber_id: 'int', delivery_id: 'int?', edition_id: 'int?', feedback_type: 'text', user_agent: 'text?', now: 'text' }),
  },
  'complaint-unsubscribe': { params: named({ id: 'int', now: 'text' }) },
  'complaint-latest-delivery': { params: pos('int'), row: row({ id: 'int', edition_id: 'int' }) },
  'dash-bounces-recent': {
    params: pos('int'),
    row: row({
      id: 'int',
      email: 'text',
      severity: 'text',
      status: 'text?',
      action: 'text?',
      diagnostic: 'text?',
      source: 'text',
      received_at: 'text',
      subscriber_status: 'text?',
    }),
  },
  'dash-returns-per-day': { params: named({ since: 'text' }), row: row({ day: 'text', hard: 'int', soft: 'int', complaints: 'int' }) },
  'dash-returns-by-edition': {
    params: pos('int'),
    row: row({
      id: 'int',
      kind: 'text',
      frequency: 'text',
      local_date: 'text',
      sent: 'int',
      hard_bounces: 'int',
      soft_bounces: 'int',
      complaints: 'int',
    }),
  },

  // digest.sql
  'digest-candidates': {
    params: pos(),
    row: row({ id: 'int', upvotes: 'int?', published_on: 'text?', first_listed_on: 'text?', first_seen_at: 'text', lists: 'int' }),
  },
  'digest-paper-by-id': { params: pos('int'), row: PAPER_WITH_PAGES },
  'digest-topic-matches': { params: pos('text'), row: ID },
  'digest-sent-paper-ids': { params: pos('int'), row: row({ paper_id: 'int' }) },
  'digest-subscriber-by-email': {
    params: pos('text', 'text'),
    row: row({ id: 'int', email: 'text', status: 'text', frequency: 'text', kind: 'text', topics: 'text', digest_size: 'int', time_zone: 'text' }),
  },
  'digest-paper-sources': { params: pos('int'), row: SOURCE },
  'archive-edition-days': { params: named({ today: 'text' }), row: row({ day: 'text' }) },
  'digest-upvote-windows': {
    params: named({ t: 'text', day: 'text', week: 'text' }),
    row: row({
      id: 'int',
      first_listed_on: 'text?',
      published_on: 'text?',
      first_at: 'text',
      first_v: 'int',
      now_v: 'int',
      day_v: 'int?',
      week_v: 'int?',
    }),
  },

  // fetch.sql
  'start-fetch-run': { params: pos('text', 'text', 'text', 'text') },
  'finish-fetch-run': {
    params: named({
      id: 'int',
      status: 'text',
      requests: 'int',
      received: 'int',
      skipped: 'int',
      added: 'int',
      updated: 'int',
      error: 'text?',
      at: 'text',
    }),
  },
  'fetch-health': {
    params: pos(),
    row: row({
      id: 'int',
      source: 'text',
      trigger: 'text',
      dates: 'text',
      status: 'text',
      requests: 'int',
      received: 'int',
      skipped: 'int',
      added: 'int',
      updated: 'int',
      error: 'text?',
      started_at: 'text',
      finished_at: 'text?',
      last_ok_at: 'text?',
    }),
  },
  'snapshot-new-papers': { params: pos('text', 'int') },
  'data-version': { params: pos(), row: row({ data_version: 'int' }) },

  // papers.sql
  'get-paper-by-key': { params: pos('text'), row: PAPER },
  'insert-paper': { params: { positional: PAPER_INSERT } },
  'update-paper': {
    params: named({
      id: 'int',
      abstract: 'text',
      authors: 'int?',
      published_on: 'text?',
      upvotes: 'int?',
      first_listed_on: 'text?',
      links: 'text',
      arxiv_id: 'text?',
      author_names: 'text',
      tldr: 'text?',
      organization: 'text?',
      comments: 'int?',
      now: 'text',
    }),
  },
  'get-paper-by-arxiv-id': { params: pos('text'), row: PAPER },
  'insert-fetched-paper': { params: pos(...PAPER_INSERT, 'text?', 'text', 'text?', 'text?', 'int?') },
  'all-arxiv-ids': { params: pos(), row: row({ id: 'int', arxiv_id: 'text' }) },
  'latest-snapshot': { params: pos('int'), row: row({ upvotes: 'int' }) },
  'insert-snapshot': { params: pos('int', 'text', 'int') },
  'delete-paper': { params: pos('int') },
  'remember-removed-paper': { params: pos('text', 'text?', 'text', 'text') },
  'removed-title-keys': { params: pos(), row: row({ title_key: 'text' }) },
  'removed-arxiv-ids': { params: pos(), row: row({ arxiv_id: 'text' }) },
  'insert-source': { params: pos('int', 'text', 'int', 'int', 'text?') },
  'get-paper': { params: pos('int'), row: PAPER_WITH_PAGES },
  'list-papers': { params: pos('int'), row: PAPER_WITH_PAGES },
  'search-papers': { params: pos('text', 'int'), row: PAPER_WITH_PAGES },
  'list-sources': { params: pos('int'), row: SOURCE },
  'count-papers': { params: pos(), row: COUNT },
  'count-sources': { params: pos(), row: COUNT },
  'max-paper-id': { params: pos(), row: COUNT },
  'all-paper-keys': { params: pos(), row: row({ id: 'int', title_key: 'text' }) },

  // search.sql
  'search-insert': { params: pos('int', 'text', 'text') },
  'search-delete': { params: pos('int') },
  'search-set-generation': { params: pos('int') },
  'bump-corpus-generation': { params: pos(), row: row({ generation: 'int' }) },
  'search-index-papers-after': { params: pos('int') },

  // admin-subscribers.sql
  'admin-subscriber-search': {
    params: named({ status: 'text?', complained: 'int', q: 'text?', limit: 'int', offset: 'int' }),
    row: SUBSCRIBER,
  },
  'admin-subscriber-search-count': { params: named({ status: 'text?', complained: 'int', q: 'text?' }), row: COUNT },
  'admin-subscriber-complained-count': { params: pos(), row: COUNT },
  'admin-subscriber-deliveries': {
    params: pos('int', 'int'),
    row: row({
      id: 'int',
      kind: 'text',
      frequency: 'text',
      period: 'text',
      status: 'text',
      attempts: 'int',
      smtp_response: 'text?',
      skip_reason: 'text?',
      message_id: 'text?',
      created_at: 'text',
      sent_at: 'text?',
      updated_at: 'text',
      papers: 'int',
    }),
  },
  'admin-subscriber-delivery-count': { params: pos('int'), row: COUNT },
  'admin-subscriber-bounces': {
    params: pos('int', 'int'),
    row: row({
      id: 'int',
      severity: 'text',
      status: 'text?',
      action: 'text?',
      diagnostic: 'text?',
      source: 'text',
      received_at: 'text',
      edition: 'text?',
    }),
  },
  'admin-subscriber-complaints': {
    params: pos('int', 'int'),
    row: row({ id: 'int', feedback_type: 'text', user_agent: 'text?', received_at: 'text', edition: 'text?' }),
  },
  'admin-subscriber-unsuppress': { params: named({ id: 'int', now: 'text' }) },
  'admin-subscriber-erase-stray-bounces': { params: pos('text') },
  'admin-subscriber-erase-run-targets': { params: pos('text') },

  // subscribers.sql
  'subscriber-get-by-email': { params: pos('text'), row: SUBSCRIBER },
  'subscriber-get-by-id': { params: pos('int'), row: SUBSCRIBER },
  'subscriber-insert': { params: NEW_SUBSCRIBER, row: SUBSCRIBER },
  'subscriber-insert-or-ignore': { params: NEW_SUBSCRIBER },
  'subscriber-claim-confirmation-slot': { params: named({ id: 'int', now: 'text', cutoff: 'text' }) },
  'subscriber-activate': { params: named({ id: 'int', now: 'text', token_created_at: 'text' }) },
  'subscriber-set-active': { params: named({ id: 'int', now: 'text' }) },
  'subscriber-unsubscribe': { params: named({ id: 'int', now: 'text' }) },
  'subscriber-mark-bounced': { params: named({ id: 'int', reason: 'text', now: 'text' }) },
  'subscriber-update-preferences': {
    params: named({
      id: 'int',
      frequency: 'text',
      weekday: 'int',
      kind: 'text',
      topics: 'text',
      digest_size: 'int',
      delivery_hour: 'int',
      time_zone: 'text',
      now: 'text',
      ...RANKING_PREFS,
    }),
  },
  'subscriber-set-pending-preferences': { params: named({ id: 'int', prefs: 'text', now: 'text' }) },
  'subscriber-delete': { params: pos('int') },
  'subscriber-page': { params: pos('int', 'int'), row: SUBSCRIBER },
  'subscriber-page-by-status': { params: pos('text', 'int', 'int'), row: SUBSCRIBER },
  'subscriber-count-by-status': { params: pos(), row: STATUS_COUNT },
  'subscriber-confirm-token-insert': { params: named({ token_hash: 'text', subscriber_id: 'int', now: 'text', expires_at: 'text' }) },
  'subscriber-confirm-token-get': {
    params: pos('text'),
    row: row({ token_hash: 'text', subscriber_id: 'int', created_at: 'text', expires_at: 'text', used_at: 'text?' }),
  },
  'subscriber-confirm-token-use': { params: named({ token_hash: 'text', now: 'text' }) },
  'subscriber-confirm-token-delete': { params: pos('text') },
  'subscriber-confirm-token-purge': { params: named({ before: 'text' }) },
  'subscriber-confirmation-enqueue': { params: named({ subscriber_id: 'int', now: 'text' }) },
  'subscriber-confirmation-claim': { params: named({ now: 'text' }), row: CONFIRMATION },
  'subscriber-confirmation-sent': { params: named({ id: 'int', now: 'text' }) },
  'subscriber-confirmation-retry': { params: CONFIRMATION_RETRY },
  'subscriber-confirmation-unsent': { params: CONFIRMATION_RETRY },
  'subscriber-confirmation-fail': { params: named({ id: 'int', error: 'text', now: 'text' }) },
  'subscriber-confirmation-requeue-stuck': { params: named({ now: 'text' }) },
  'subscriber-confirmation-next-due': { params: pos(), row: row({ at: 'text?' }) },
  'subscriber-confirmation-get': { params: pos('int'), row: CONFIRMATION },
  'subscriber-confirmation-purge': { params: named({ before: 'text' }) },

  // web.sql
  'web-home-papers': {
    params: pos('int'),
    row: row({
      id: 'int',
      title: 'text',
      abstract: 'text',
      upvotes: 'int?',
      published_on: 'text?',
      first_listed_on: 'text?',
      links: 'text',
      authors: 'int?',
      author_names: 'text',
      organization: 'text?',
      comments: 'int?',
      tldr: 'text?',
      arxiv_id: 'text?',
    }),
  },
} as const satisfies Record<string, QuerySpec>;

export type QueryName = keyof typeof QUERIES;
type Spec<N extends QueryName> = (typeof QUERIES)[N];

type TagTuple<T extends readonly Tag[]> = { -readonly [I in keyof T]: ParamTypes[T[I]] };
/** The arguments of `run/get/all/iterate/bind` for query `N`. */
export type QueryParams<N extends QueryName> = Spec<N>['params'] extends { positional: infer T extends readonly Tag[] }
  ? TagTuple<T>
  : Spec<N>['params'] extends { named: infer C extends Columns }
    ? [ParamObject<C>]
    : never;
/** One result row of query `N` (`never` for a statement that returns none). */
export type QueryRow<N extends QueryName> = Spec<N> extends { row: infer C extends Columns } ? RowType<C> : never;

/** A prepared statement that returns no rows: only `run` (reading its rows is a type error). */
export interface WriteStatement<P extends unknown[]> {
  readonly source: string;
  readonly reader: boolean;
  run(...params: P): Database.RunResult;
}

/** better-sqlite3's Statement with the registry's parameter and row types. */
export interface ReadStatement<P extends unknown[], R> extends WriteStatement<P> {
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
  /** Rows become their first column's value (the row type must have one column). */
  pluck(toggleState?: true): ReadStatement<P, R[keyof R]>;
  columns(): Database.ColumnDefinition[];
}

export type TypedStatement<N extends QueryName> =
  Spec<N> extends { row: Columns } ? ReadStatement<QueryParams<N>, QueryRow<N>> : WriteStatement<QueryParams<N>>;
