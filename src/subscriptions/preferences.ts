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

/** Keywords from a list or one comma-separated string: trimmed, de-duplicated (case-insensitively), blanks dropped. */
export const topicsSchema = z
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
          .max(MAX_TOPIC_LENGTH, { error: PREFERENCE_MESSAGES.topicLength })
          .refine((t) => !/[\u0000-\u001f\u007f]/.test(t), { error: PREFERENCE_MESSAGES.topicControl }),
      )
      .max(MAX_TOPICS, { error: PREFERENCE_MESSAGES.topicsCount }),
  );

export const preferencesSchema = z.object({
  frequency: Frequency,
  weekday: intIn(0, 6, PREFERENCE_MESSAGES.weekday),
  kind: Kind,
  topics: topicsSchema,
  digest_size: intIn(1, 30, PREFERENCE_MESSAGES.digestSize),
  delivery_hour: intIn(0, 23, PREFERENCE_MESSAGES.deliveryHour),
  time_zone: timeZoneSchema,
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
