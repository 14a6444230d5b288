// Owns the confirmation pages: GET shows a button (link scanners change nothing), POST confirms.
import type { FastifyInstance } from 'fastify';
import { renderError, type WebDeps } from '../route-context.js';
import { describeDigest, describeSchedule, otherChoices } from '../describe.js';
import { subscriberPaths } from '../../subscriptions/subscriber-links.js';
import type { TokenState } from '../../subscriptions/lifecycle.js';

const MESSAGES = {
  confirmTitle: 'Confirm your subscription',
  confirmedTitle: 'You are subscribed',
  invalid: {
    unknown: {
      title: 'Link not valid',
      heading: 'This link is not valid',
      lines: ['It may have been copied only in part. Open the link from the email again, or subscribe again from the home page.'],
    },
    expired: {
      title: 'Link expired',
      heading: 'This confirmation link has expired',
      lines: ['Confirmation links work for a limited time. Subscribe again from the home page to get a fresh one.'],
    },
    used: {
      title: 'Link already used',
      heading: 'This link has already been used',
      lines: ['Each confirmation link works once. If you confirmed already, you are all set; your digests will arrive as planned.'],
    },
  },
} as const satisfies { invalid: Record<Exclude<TokenState, 'valid'>, unknown> } & Record<string, unknown>;

const STATUS = { unknown: 404, expired: 410, used: 410 } as const;

export async function registerConfirmRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { subscriptions, secret } = deps;

  app.get<{ Params: { token: string } }>('/confirm/:token', async (req, reply) => {
    const state = subscriptions.tokenState(req.params.token);
    if (state !== 'valid') return renderError(reply, STATUS[state], MESSAGES.invalid[state]);
    return reply.page('confirm', { title: MESSAGES.confirmTitle, token: req.params.token, narrow: true });
  });

  app.post<{ Params: { token: string } }>('/confirm/:token', async (req, reply) => {
    const result = subscriptions.confirm(req.params.token);
    if (!result.ok) return renderError(reply, STATUS[result.reason], MESSAGES.invalid[result.reason]);
    const s = result.subscriber;
    return reply.page('confirmed', {
      title: MESSAGES.confirmedTitle,
      email: s.email,
      when: describeSchedule(s),
      digest: describeDigest(s),
      offer: otherChoices(s),
      manageUrl: subscriberPaths(secret, s.id).managePath,
      narrow: true,
    });
  });
}
