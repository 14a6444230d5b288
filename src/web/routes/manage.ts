// Owns the signed-link pages: preferences, unsubscribe (page and RFC 8058 one-click) and resubscribe.
// The preferences page's feedback and feed panel comes from ./feedback.ts.
import type { FastifyInstance } from 'fastify';
import { renderError, type WebDeps } from '../route-context.js';
import { field } from '../form.js';
import { describeDigest, describeSchedule, insteadOfLeaving } from '../describe.js';
import { subscriberPaths } from '../../subscriptions/subscriber-links.js';
import { canonicalTimeZone, PREFERENCE_FIELDS, RANKING_FIELDS, WEEKDAYS } from '../../subscriptions/preferences.js';
import type { Subscriber } from '../../subscriptions/repository.js';
import { TIME_ZONE_CHOICES } from '../../subscriptions/time-zones.js';
import { readerPanel } from './feedback.js';

const MESSAGES = {
  prefsTitle: 'Your preferences',
  unsubscribeTitle: 'Unsubscribe',
  unsubscribedTitle: 'You are unsubscribed',
  alreadyUnsubscribedTitle: 'You are already unsubscribed',
  resubscribedTitle: 'You are subscribed again',
  resubscribeBounced: {
    title: 'Cannot resubscribe',
    heading: 'Mail to this address bounced',
    lines: [
      'Its mail server refused our digests, so we have stopped sending to it and cannot start again from here. Subscribe with another address, or ask the site owner.',
    ],
  },
  oneClickDone: 'You have been unsubscribed.\n',
  status: {
    pending: { note: 'not confirmed yet: check your inbox', tone: '' },
    unsubscribed: { note: 'unsubscribed: saving does not resubscribe', tone: '' },
    bounced: { note: 'paused: mail to this address bounced', tone: '' },
    active: { note: 'subscribed', tone: 'ok' },
  },
  badLink: {
    title: 'Link not valid',
    heading: 'This link is not valid',
    lines: ['It may have been copied only in part. Open it again from one of our emails; every digest carries fresh links.'],
  },
} as const;

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const WEEKDAY_OPTIONS = WEEKDAYS.map((label, value) => ({ value, label }));

const FORM_FIELDS = PREFERENCE_FIELDS;
type FormValues = Record<(typeof FORM_FIELDS)[number], string>;
const sent = (body: unknown, name: string) => typeof body === 'object' && body !== null && name in body;

function valuesOf(s: Subscriber): FormValues {
  return {
    frequency: s.frequency,
    weekday: String(s.weekday),
    kind: s.kind,
    topics: s.topics.join(', '),
    digest_size: String(s.digest_size),
    delivery_hour: String(s.delivery_hour),
    // A zone stored under its old name (Asia/Calcutta) is shown by its IANA name.
    time_zone: canonicalTimeZone(s.time_zone) ?? s.time_zone,
    muted_topics: s.muted_topics.join(', '),
    followed_authors: s.followed_authors.join(', '),
    only_with_code: s.only_with_code ? '1' : '',
    selection_mode: s.selection_mode,
    relevance_bar: String(s.relevance_bar),
    trend_weight: String(s.trend_weight),
  };
}

export async function registerManageRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { subscriptions, secret, config } = deps;

  const prefsPage = (token: string, s: Subscriber, values: FormValues, extra: Record<string, unknown> = {}) => ({
    title: MESSAGES.prefsTitle,
    token,
    email: s.email,
    statusNote: MESSAGES.status[s.status].note,
    statusTone: MESSAGES.status[s.status].tone,
    values,
    currentTopics: s.topics,
    weekdays: WEEKDAY_OPTIONS,
    hours: HOURS,
    timeZones: TIME_ZONE_CHOICES,
    unsubscribeUrl: subscriberPaths(secret, s.id).unsubscribePath,
    ...readerPanel(deps, s),
    errors: {},
    ...extra,
  });

  app.get<{ Params: { token: string }; Querystring: { saved?: string; feedback?: string } }>('/preferences/:token', async (req, reply) => {
    const s = subscriptions.byManageToken(req.params.token);
    if (!s) return renderError(reply, 404, MESSAGES.badLink);
    return reply.page(
      'preferences',
      prefsPage(req.params.token, s, valuesOf(s), { saved: req.query.saved === '1', feedbackSaved: req.query.feedback === '1' }),
    );
  });

  app.post<{ Params: { token: string } }>('/preferences/:token', async (req, reply) => {
    const current = subscriptions.byManageToken(req.params.token);
    if (!current) return renderError(reply, 404, MESSAGES.badLink);
    const values = Object.fromEntries(FORM_FIELDS.map((name) => [name, field(req.body, name)])) as FormValues;
    values.time_zone ||= config.DEFAULT_TIME_ZONE;
    // A form without the ranking fields (a page loaded before they existed, a script) keeps what is stored. The page's
    // own form always sends selection_mode, so there an absent checkbox means unticked.
    if (!sent(req.body, 'selection_mode')) {
      const stored = valuesOf(current);
      for (const name of RANKING_FIELDS) if (!sent(req.body, name)) values[name] = stored[name];
    }
    const result = subscriptions.updatePreferences(req.params.token, values);
    if (!result.ok && result.reason === 'unknown') return renderError(reply, 404, MESSAGES.badLink);
    if (!result.ok) {
      const s = subscriptions.byManageToken(req.params.token)!;
      return reply.page('preferences', prefsPage(req.params.token, s, values, { errors: result.errors, hasErrors: true }), 400);
    }
    // Post/redirect/get: a reload does not resubmit, and the page shows what was stored.
    return reply.redirect(`/preferences/${encodeURIComponent(req.params.token)}?saved=1`, 303);
  });

  app.get<{ Params: { token: string } }>('/unsubscribe/:token', async (req, reply) => {
    const s = subscriptions.byUnsubscribeToken(req.params.token);
    if (!s) return renderError(reply, 404, MESSAGES.badLink);
    // Reopening the link after leaving: say so and offer the way back, not "Stop sending?" again.
    if (s.status === 'unsubscribed') {
      return reply.page('unsubscribed', {
        title: MESSAGES.alreadyUnsubscribedTitle,
        email: s.email,
        token: req.params.token,
        digest: describeDigest(s),
        already: true,
        narrow: true,
      });
    }
    return reply.page('unsubscribe', {
      title: MESSAGES.unsubscribeTitle,
      email: s.email,
      token: req.params.token,
      digest: s.status === 'active' ? describeDigest(s) : 'digests',
      instead: insteadOfLeaving(s),
      manageUrl: subscriberPaths(secret, s.id).managePath,
      narrow: true,
    });
  });

  // One handler for the button and for RFC 8058 one-click: the signed token in the URL is the authority, no cookie
  // or session is involved, and a mail provider's POST gets a plain 200 with no redirect.
  app.post<{ Params: { token: string } }>('/unsubscribe/:token', async (req, reply) => {
    const s = subscriptions.unsubscribeByToken(req.params.token);
    if (!s) return renderError(reply, 404, MESSAGES.badLink);
    if (field(req.body, 'List-Unsubscribe') === 'One-Click') {
      return reply.code(200).type('text/plain; charset=utf-8').send(MESSAGES.oneClickDone);
    }
    return reply.page('unsubscribed', { title: MESSAGES.unsubscribedTitle, email: s.email, token: req.params.token, digest: describeDigest(s), narrow: true });
  });

  app.post<{ Params: { token: string } }>(
    '/resubscribe/:token',
    { config: { rateLimit: { max: config.SUBSCRIBE_RATE_LIMIT_PER_MIN, timeWindow: 60_000, keyGenerator: (req) => req.ip } } },
    async (req, reply) => {
      const r = subscriptions.resubscribeByToken(req.params.token);
      if (!r) return renderError(reply, 404, MESSAGES.badLink);
      // Say only what happened: active now, or (bounced) nothing we can send.
      if (r.outcome === 'bounced') return renderError(reply, 409, MESSAGES.resubscribeBounced);
      const s = r.subscriber;
      return reply.page('resubscribed', {
        title: MESSAGES.resubscribedTitle,
        email: s.email,
        digest: describeDigest(s),
        when: describeSchedule(s),
        manageUrl: subscriberPaths(secret, s.id).managePath,
        narrow: true,
      });
    },
  );
}
