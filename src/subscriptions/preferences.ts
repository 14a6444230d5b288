// Owns a subscriber's choices (what, how often, when) and how they are checked at every edge.
import { z } from 'zod';
import { decimalInt } from '../web/params.js';
import { ianaName } from './time-zones.js';

export const PREFERENCE_MESSAGES = {
  frequency: 'Choose daily, weekly or paused.',
  weekday: 'Choose a day of the week.',
  kind: 'Choose trending, new or both.',
  topicsCount: 'Up to 10 topics, please.',
  topicLength: 'Each topic can be at most 40 characters.',
  topicControl: 'Topics cannot contain line breaks or control characters.',
  digestSize: 'Choose a number of papers from 1 to 30.',
  deliveryHour: 'Choose an hour from 0 to 23.',
  timeZone: 'That is not a time zone we know (use a name like Europe/London or America/New_York).',
  mutedCount: 'Up to 10 muted topics, please.',
  mutedLength: 'Each muted topic can be at most 40 characters.',
  mutedControl: 'Muted topics cannot contain line breaks or control characters.',
  authorsCount: 'Follow up to 20 authors, please.',
  authorLength: 'Each author name can be at most 80 characters.',
  authorControl: 'Author names cannot contain line breaks or control characters.',
  onlyWithCode: 'Tick the box, or leave it empty.',
  selectionMode: 'Choose "the best N papers" or "only papers above the bar".',
  relevanceBar: 'Choose a relevance bar from 0 to 100.',
  trendWeight: 'Choose a value from 0 (only my topics) to 100 (only trending).',
} as const;

export const Frequency = z.enum(['daily', 'weekly', 'paused'], { error: PREFERENCE_MESSAGES.frequency });
export type Frequency = z.infer<typeof Frequency>;
export const Kind = z.enum(['trending', 'new', 'both'], { error: PREFERENCE_MESSAGES.kind });
export type Kind = z.infer<typeof Kind>;

export const MAX_TOPICS = 10;
export const MAX_TOPIC_LENGTH = 40;
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

// Building an Intl.DateTimeFormat costs ~50µs; an import of 100,000 rows asks about the same few zones.
const zoneCache = new Map<string, string | null>();

/** The canonical IANA name for a zone the runtime knows ("utc" -> "UTC", "Asia/Calcutta" -> "Asia/Kolkata"), or null. */
export function canonicalTimeZone(name: string): string | null {
  if (!name || name.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(name)) return null;
  const hit = zoneCache.get(name);
  if (hit !== undefined) return hit;
  let zone: string | null;
  try {
    zone = ianaName(new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone);
  } catch {
    zone = null;
  }
  if (zoneCache.size < 2000) zoneCache.set(name, zone);
  return zone;
}

export const timeZoneSchema = z.string().transform((v, ctx) => {
  const tz = canonicalTimeZone(v.trim());
  if (!tz) {
    ctx.addIssue({ code: 'custom', message: PREFERENCE_MESSAGES.timeZone });
    return z.NEVER;
  }
  return tz;
});

// Form fields arrive with stray spaces; the number itself must be canonical decimal (src/web/params.ts).
const intIn = (min: number, max: number, message: string) => z.union([z.number(), z.string().trim()]).pipe(decimalInt(min, max, message));

/**
 * A list from a JSON list or one comma-separated string: trimmed, inner spaces folded, de-duplicated
 * (case-insensitively), blanks dropped, then held to a count and a length.
 */
function keywordList(max: number, maxLength: number, m: { count: string; length: string; control: string }) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => {
      const parts = (Array.isArray(v) ? v : v.split(',')).map((t) => t.trim().replace(/\s+/g, ' ')).filter(Boolean);
      const seen = new Set<string>();
      return parts.filter((t) => (seen.has(t.toLowerCase()) ? false : (seen.add(t.toLowerCase()), true)));
    })
    .pipe(
      z
        .array(
          z
            .string()
            .max(maxLength, { error: m.length })
            .refine((t) => !/[\u0000-\u001f\u007f]/.test(t), { error: m.control }),
        )
        .max(max, { error: m.count }),
    );
}

/** Keywords from a list or one comma-separated string: trimmed, de-duplicated (case-insensitively), blanks dropped. */
export const topicsSchema = keywordList(MAX_TOPICS, MAX_TOPIC_LENGTH, {
  count: PREFERENCE_MESSAGES.topicsCount,
  length: PREFERENCE_MESSAGES.topicLength,
  control: PREFERENCE_MESSAGES.topicControl,
});

/** Negative keywords (issue 16): the same rules as topics, so a list that works as topics works muted. */
export const mutedTopicsSchema = keywordList(MAX_TOPICS, MAX_TOPIC_LENGTH, {
  count: PREFERENCE_MESSAGES.mutedCount,
  length: PREFERENCE_MESSAGES.mutedLength,
  control: PREFERENCE_MESSAGES.mutedControl,
});

export const MAX_FOLLOWED_AUTHORS = 20;
export const MAX_AUTHOR_LENGTH = 80;
/** Author names as papers print them ("Ada Lovelace"), comma-separated. */
export const followedAuthorsSchema = keywordList(MAX_FOLLOWED_AUTHORS, MAX_AUTHOR_LENGTH, {
  count: PREFERENCE_MESSAGES.authorsCount,
  length: PREFERENCE_MESSAGES.authorLength,
  control: PREFERENCE_MESSAGES.authorControl,
});

// A form checkbox is absent when unticked and "1"/"on" when ticked; a CSV cell says true/false, yes/no or 1/0.
const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['', '0', 'false', 'no', 'off']);
export const flagSchema = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const w = v.trim().toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  ctx.addIssue({ code: 'custom', message: PREFERENCE_MESSAGES.onlyWithCode });
  return z.NEVER;
});

export const SelectionMode = z.enum(['top', 'threshold'], { error: PREFERENCE_MESSAGES.selectionMode });
export type SelectionMode = z.infer<typeof SelectionMode>;

/** What migration 073 gives every row: the ranking choices a reader has not made yet. */
export const RANKING_DEFAULTS = {
  muted_topics: [] as string[],
  followed_authors: [] as string[],
  only_with_code: false,
  selection_mode: 'top' as SelectionMode,
  relevance_bar: 60,
  trend_weight: 50,
};

/** The field names of preferencesSchema: what forms, CLI flags and CSV columns are called. */
export const SCHEDULE_FIELDS = ['frequency', 'weekday', 'kind', 'topics', 'digest_size', 'delivery_hour', 'time_zone'] as const;
export const RANKING_FIELDS = ['muted_topics', 'followed_authors', 'only_with_code', 'selection_mode', 'relevance_bar', 'trend_weight'] as const;
export const PREFERENCE_FIELDS = [...SCHEDULE_FIELDS, ...RANKING_FIELDS] as const;

export const preferencesSchema = z.object({
  frequency: Frequency,
  weekday: intIn(0, 6, PREFERENCE_MESSAGES.weekday),
  kind: Kind,
  topics: topicsSchema,
  digest_size: intIn(1, 30, PREFERENCE_MESSAGES.digestSize),
  delivery_hour: intIn(0, 23, PREFERENCE_MESSAGES.deliveryHour),
  time_zone: timeZoneSchema,
  // Issue 16's ranking choices. Absent means the default, so CSVs, CLI flags and pending preferences written before
  // these fields existed stay valid.
  muted_topics: mutedTopicsSchema.default(() => []),
  followed_authors: followedAuthorsSchema.default(() => []),
  only_with_code: flagSchema.default(false),
  selection_mode: SelectionMode.default('top'),
  relevance_bar: intIn(0, 100, PREFERENCE_MESSAGES.relevanceBar).default(RANKING_DEFAULTS.relevance_bar),
  trend_weight: intIn(0, 100, PREFERENCE_MESSAGES.trendWeight).default(RANKING_DEFAULTS.trend_weight),
});
export type Preferences = z.infer<typeof preferencesSchema>;

export function defaultPreferences(opts: { digestSize?: number; timeZone?: string } = {}): Preferences {
  return {
    frequency: 'daily',
    weekday: 1,
    kind: 'trending',
    topics: [],
    digest_size: opts.digestSize ?? 10,
    delivery_hour: 8,
    time_zone: opts.timeZone ?? 'UTC',
    ...RANKING_DEFAULTS,
    muted_topics: [],
    followed_authors: [],
  };
}

/** Field name -> first message, for forms that show errors next to each field. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? 'form');
    out[key] ??= issue.message;
  }
  return out;
}
