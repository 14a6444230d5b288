// Owns the plain-English summary of a subscriber's schedule shown on the pages.
import { WEEKDAYS } from '../subscriptions/preferences.js';
import type { Subscriber } from '../subscriptions/repository.js';

export function describeSchedule(s: Pick<Subscriber, 'frequency' | 'weekday' | 'delivery_hour' | 'time_zone'>): string {
  const at = `${String(s.delivery_hour).padStart(2, '0')}:00 ${s.time_zone.replace(/_/g, ' ')}`;
  if (s.frequency === 'paused') return 'once you un-pause it';
  if (s.frequency === 'weekly') return `on the next ${WEEKDAYS[s.weekday] ?? 'Monday'} at ${at}`;
  return `at the next ${at}`;
}
