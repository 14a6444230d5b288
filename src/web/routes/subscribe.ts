// Owns the home page, the subscribe form and "check your inbox".
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { WebDeps } from '../route-context.js';
import { anyFilled, field } from '../form.js';
import { homePapers } from '../home-papers.js';
import { emailSchema } from '../../subscriptions/email.js';
import { Kind, topicsSchema, fieldErrors, canonicalTimeZone } from '../../subscriptions/preferences.js';

const MESSAGES = {
  homeTitle: 'Research papers in your inbox',
  frequency: 'Choose daily or weekly.',
  formErrors: 'Please fix the fields marked below.',
  checkTitle: 'Check your inbox',
  checkLines: [
    'If this address can receive digests, a confirmation email is on its way. Open it and press the button to start.',
    'Nothing there after a few minutes? Look in spam or promotions, or try again tomorrow: we send at most one confirmation a day.',
  ],
} as const;

const subscribeForm = z.object({
  email: emailSchema,
  frequency: z.enum(['daily', 'weekly'], { error: MESSAGES.frequency }),
  kind: Kind,
  topics: topicsSchema,
});

const DEFAULT_VALUES = { email: '', frequency: 'daily', kind: 'trending', topics: '' };

export async function registerSubscribeRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { store, subscriptions, config } = deps;

  const home = (values: Record<string, string>, errors: Record<string, string> = {}) => ({
    title: MESSAGES.homeTitle,
    values,
    errors,
    papers: homePapers(store, 5),
  });

  app.get('/', async (_req, reply) => reply.page('home', home(DEFAULT_VALUES)));

  app.post(
    '/subscribe',
    { config: { rateLimit: { max: config.SUBSCRIBE_RATE_LIMIT_PER_MIN, timeWindow: 60_000, keyGenerator: (req) => req.ip } } },
    async (req, reply) => {
      const values = {
        email: field(req.body, 'email'),
        frequency: field(req.body, 'frequency') || 'daily',
        kind: field(req.body, 'kind') || 'trending',
        topics: field(req.body, 'topics'),
      };
      // Honeypot: a person never sees the field. A bot that fills it (in any of its repetitions) gets the usual
      // answer and nothing happens.
      if (anyFilled(req.body, 'website')) {
        req.log.info({ ip: req.ip }, 'honeypot filled; ignored');
        return reply.redirect('/check-inbox', 303);
      }
      const parsed = subscribeForm.safeParse(values);
      if (!parsed.success) {
        return reply.page('home', home(values, { form: MESSAGES.formErrors, ...fieldErrors(parsed.error) }), 400);
      }
      const { email, ...prefs } = parsed.data;
      // A bad or missing guess is not the visitor's fault: fall back to the default zone.
      const time_zone = canonicalTimeZone(field(req.body, 'time_zone')) ?? config.DEFAULT_TIME_ZONE;
      const result = subscriptions.subscribe(email, 'web', { ...prefs, time_zone });
      if (!result.ok) return reply.page('home', home(values, { form: MESSAGES.formErrors, email: result.error }), 400);
      // Same answer for new, pending, active, unsubscribed and bounced addresses.
      return reply.redirect('/check-inbox', 303);
    },
  );

  // A reload or a bookmark of the form's address lands on the form.
  app.get('/subscribe', async (_req, reply) => reply.redirect('/', 303));

  app.get('/check-inbox', async (_req, reply) => reply.page('check-inbox', { title: MESSAGES.checkTitle, lines: [...MESSAGES.checkLines], narrow: true }));
}
