// Owns the plain-English summary of a subscriber's schedule shown on the pages.
import { WEEKDAYS } from '../subscriptions/preferences.js';
import { ianaName } from '../subscriptions/time-zones.js';
import type { Subscriber } from '../subscriptions/repository.js';

export function describeSchedule(s: Pick<Subscriber, 'frequency' | 'weekday' | 'delivery_hour' | 'time_zone'>): string {
  const at = `${String(s.delivery_hour).padStart(2, '0')}:00 ${ianaName(s.time_zone).replace(/_/g, ' ')}`;
  if (s.frequency === 'paused') return 'once you un-pause it';
  if (s.frequency === 'weekly') return `on the next ${WEEKDAYS[s.weekday] ?? 'Monday'} at ${at}`;
  return `at the next ${at}`;
}

type Choices = Pick<Subscriber, 'frequency' | 'kind' | 'topics' | 'digest_size'>;

const KIND_WORDS = { trending: 'trending papers', new: 'new papers', both: 'trending and new papers' } as const;

/** "weekly digest of new papers": what this subscriber chose, in words. */
export function describeDigest(s: Choices): string {
  const often = s.frequency === 'weekly' ? 'weekly ' : s.frequency === 'daily' ? 'daily ' : '';
  return `${often}digest of ${KIND_WORDS[s.kind]}${s.topics.length ? ` (${s.topics.join(', ')} first)` : ''}`;
}

/**
 * The changes a subscriber could make, worded from what they have: a weekly subscriber is never offered "a weekly
 * digest", nor someone with topics "only some topics".
 */
export function otherChoices(s: Choices): string {
  const offers = [
    s.frequency === 'weekly' ? 'a daily digest' : s.frequency === 'daily' ? 'a weekly digest' : 'your digests back',
    s.digest_size > 3 ? 'fewer papers' : 'more papers',
    s.kind === 'trending' ? 'new papers too' : s.kind === 'new' ? 'trending papers instead' : 'only trending or only new papers',
    s.topics.length ? 'other topics' : 'only some topics',
  ];
  return `Want ${offers.slice(0, -1).join(', ')} or ${offers.at(-1)}?`;
}

/** What the unsubscribe page offers instead of leaving, for this subscriber's schedule (or null: nothing fits). */
export function insteadOfLeaving(s: Pick<Subscriber, 'frequency' | 'status'>): string | null {
  if (s.status !== 'active') return null;
  if (s.frequency === 'daily') return 'Too many emails? Switch to weekly or pause instead';
  if (s.frequency === 'weekly') return 'Need a break? Pause your weekly digest instead';
  return null;
}
