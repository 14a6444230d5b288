// Owns the reader's feedback surfaces: the email's signed more/less links (a page, then a POST, then undo), the
// preferences page's feedback (its list, its last digest), and the reader's private Atom feed of what was sent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PageError, type ErrorMessage, type WebDeps } from '../route-context.js';
import { field } from '../form.js';
import { decimalInt } from '../params.js';
import { verifyFeedbackToken, verifySubscriberToken, signFeedbackToken } from '../../subscriptions/tokens.js';
import { readerFeedPath } from '../../subscriptions/subscriber-links.js';
import {
  createFeedbackRepository,
  createFeedbackService,
  FeedbackSignal,
  FeedbackSource,
  type FeedbackListener,
  type FeedbackService,
  type Feedback,
} from '../../subscriptions/feedback.js';
import type { Subscriber } from '../../subscriptions/repository.js';
import { createPapersRepo, type Paper } from '../../corpus/papers-repo.js';
import { paperFacts, shortDate } from '../../render/paper-facts.js';
import { clean } from '../../render/renderer.js';
import { atomXml, type AtomEntry } from '../../archive/atom.js';
import { excerpt } from '../../render/excerpt.js';

/** Every message these pages show a person. */
const MESSAGES = {
  title: { more: 'More like this', less: 'Less like this' },
  ask: {
    more: 'Tell your digest you want more papers like this one.',
    less: 'Tell your digest you want fewer papers like this one.',
  },
  done: {
    more: 'Your next digests lean towards papers like this one.',
    less: 'Your next digests lean away from papers like this one.',
  },
  undone: 'Undone. Nothing is recorded for this paper now.',
  nothingToUndo: 'There was nothing recorded for this paper, so nothing changed.',
  said: { more: 'more like this', less: 'less like this' },
  badLink: {
    title: 'Link not valid',
    heading: 'This link is not valid',
    lines: ['It may have been copied only in part. Open it again from one of our emails; every digest carries fresh links.'],
  },
  erased: {
    title: 'Subscription removed',
    heading: 'This subscription no longer exists',
    lines: ['The address this link was made for has been removed from our list, with everything it told us. Nothing was recorded.'],
  },
  notActive: {
    title: 'Not subscribed',
    heading: 'You are not receiving digests',
    lines: [
      'This address is unsubscribed (or its mail bounced), so there is no digest to tune and nothing was recorded. Subscribe again from the home page to start anew.',
    ],
  },
  noPaper: {
    title: 'Paper not found',
    heading: 'That paper is no longer here',
    lines: ['It has been removed from the archive since the email went out, so there is nothing to tell your digest about it.'],
  },
  badForm: {
    title: 'Something is off',
    heading: 'We could not read that request',
    lines: ['Please go back to your preferences and use the buttons there.'],
  },
} as const satisfies Record<string, unknown>;

// How much of their history a page shows: a page, not an export.
const RECENT_FEEDBACK = 20;
const FEED_DELIVERIES = 30;

const Signal = FeedbackSignal;
const PaperId = decimalInt(1, Number.MAX_SAFE_INTEGER);

const refuse = (status: number, m: ErrorMessage) => new PageError(status, m);

export interface FeedbackRouteOptions {
  /** Told after each change (h16-model's refit); no-op by default. */
  listener?: FeedbackListener;
}

/** The paper as a feedback page shows it: enough to recognise it, and its links. */
function paperView(p: Paper, siteUrl: string, token: string) {
  const facts = paperFacts(p, `${siteUrl}/papers/${p.id}`);
  return {
    id: p.id,
    title: clean(p.title),
    byline: facts.authorsLine ? clean(facts.authorsLine) : '',
    organization: p.organization ? clean(p.organization) : '',
    meta: [...facts.counts, ...facts.dates].join(' · '),
    tldr: p.tldr ? clean(p.tldr) : '',
    readUrl: facts.readUrl,
    readLabel: facts.readLabel,
    // The paper's page offers the same buttons when it knows the reader's token.
    detailsUrl: `/papers/${p.id}?fb=${token}`,
  };
}

function whenSaid(f: Feedback | null) {
  return f ? { signal: f.signal, said: MESSAGES.said[f.signal], on: shortDate(f.created_at.slice(0, 10)) } : null;
}

export async function registerFeedbackRoutes(app: FastifyInstance, deps: WebDeps, opts: FeedbackRouteOptions = {}): Promise<void> {
  const { store, secret, config, subscriptions } = deps;
  const feedback: FeedbackService = createFeedbackService({ store, clock: deps.clock, log: deps.log, ...(opts.listener ? { listener: opts.listener } : {}) });
  const papers = createPapersRepo(store);
  const siteUrl = config.PUBLIC_URL.replace(/\/+$/, '');

  /** The reader and paper a feedback token names, or the page that says why not. */
  function resolve(raw: string): { reader: Subscriber; paper: Paper; token: string } {
    const ids = verifyFeedbackToken(raw, secret);
    if (!ids) throw refuse(404, MESSAGES.badLink);
    const reader = subscriptions.repo.byId(ids.subscriberId);
    if (!reader) throw refuse(410, MESSAGES.erased);
    if (reader.status !== 'active') throw refuse(409, MESSAGES.notActive);
    const paper = papers.get(ids.paperId);
    if (!paper) throw refuse(404, MESSAGES.noPaper);
    // The canonical spelling, for the page's forms and links (the one in the path may differ in case or spaces).
    return { reader, paper, token: signFeedbackToken(reader.id, paper.id, secret) };
  }

  const source = (req: FastifyRequest, fallback: FeedbackSource): FeedbackSource => {
    const r = FeedbackSource.safeParse(field(req.body, 'source'));
    // 'preferences' is only what the preferences page's own route records.
    return r.success && r.data !== 'preferences' ? r.data : fallback;
  };

  // The link in the email. A GET never writes: mail scanners and link previews follow every link they see.
  app.get<{ Params: { token: string; signal: string }; Querystring: { from?: string } }>('/feedback/:token/:signal', async (req, reply) => {
    const signal = Signal.safeParse(req.params.signal);
    if (!signal.success) throw refuse(404, MESSAGES.badLink);
    const { reader, paper, token } = resolve(req.params.token);
    const s = signal.data;
    const current = feedback.repo.get(reader.id, paper.id);
    return reply.page('feedback', {
      narrow: true,
      title: MESSAGES.title[s],
      ask: true,
      heading: `${MESSAGES.title[s]}?`,
      lede: MESSAGES.ask[s],
      token,
      signal: s,
      button: MESSAGES.title[s],
      less: s === 'less',
      source: req.query.from === 'paper' ? 'paper' : 'email',
      paper: paperView(paper, siteUrl, token),
      current: whenSaid(current),
    });
  });

  app.post<{ Params: { token: string; signal: string } }>('/feedback/:token/:signal', async (req, reply) => {
    const raw = req.params.signal;
    if (raw === 'undo') {
      const { reader, paper, token } = resolve(req.params.token);
      const had = feedback.undo(reader.id, paper.id);
      return reply.page('feedback', {
        narrow: true,
        title: 'Undone',
        undone: true,
        heading: had ? 'Undone' : 'Nothing to undo',
        lede: had ? MESSAGES.undone : MESSAGES.nothingToUndo,
        token,
        // The button they took back, offered again.
        signal: had?.signal ?? 'more',
        button: MESSAGES.title[had?.signal ?? 'more'],
        less: had?.signal === 'less',
        source: had?.source === 'paper' ? 'paper' : 'email',
        paper: paperView(paper, siteUrl, token),
      });
    }
    const signal = Signal.safeParse(raw);
    if (!signal.success) throw refuse(404, MESSAGES.badLink);
    const { reader, paper, token } = resolve(req.params.token);
    const s = signal.data;
    feedback.give(reader.id, paper.id, s, source(req, 'email'));
    return reply.page('feedback', {
      narrow: true,
      title: 'Thanks',
      done: true,
      heading: 'Thanks, noted',
      lede: MESSAGES.done[s],
      token,
      signal: s,
      less: s === 'less',
      paper: paperView(paper, siteUrl, token),
    });
  });

  // From the preferences page: the manage token is the authority, the paper is any paper the reader names.
  app.post<{ Params: { token: string } }>('/preferences/:token/feedback', async (req, reply) => {
    const reader = subscriptions.byManageToken(req.params.token);
    if (!reader) throw refuse(404, MESSAGES.badLink);
    if (reader.status !== 'active') throw refuse(409, MESSAGES.notActive);
    const id = PaperId.safeParse(field(req.body, 'paper'));
    const action = field(req.body, 'signal');
    if (!id.success || !['more', 'less', 'undo'].includes(action)) throw refuse(400, MESSAGES.badForm);
    if (!papers.get(id.data)) throw refuse(404, MESSAGES.noPaper);
    if (action === 'undo') feedback.undo(reader.id, id.data);
    else feedback.give(reader.id, id.data, action as FeedbackSignal, 'preferences');
    return reply.redirect(`/preferences/${encodeURIComponent(req.params.token)}?feedback=1#feedback`, 303);
  });

  // The reader's private feed: exactly the papers of the digests that went out to them, newest first.
  app.get<{ Params: { token: string } }>('/feeds/:token/atom.xml', async (req, reply) => {
    const id = verifySubscriberToken(req.params.token, 'feed', secret);
    const reader = id === null ? null : subscriptions.repo.byId(id);
    if (!reader) throw refuse(404, MESSAGES.badLink);
    const selfUrl = `${siteUrl}${readerFeedPath(secret, reader.id)}`;
    const deliveries = feedback.repo.sentDeliveries(reader.id, FEED_DELIVERIES);
    const entries: AtomEntry[] = [];
    for (const d of deliveries) {
      for (const paperId of d.paper_ids) {
        const p = papers.get(paperId);
        // A paper removed since (`paperboy papers remove`) has nothing left to show.
        if (!p) continue;
        const own = `${siteUrl}/papers/${p.id}`;
        const facts = paperFacts(p, own);
        const head = [facts.authorsLine, facts.organization, ...facts.counts, ...facts.dates].filter(Boolean).join(' · ');
        entries.push({
          // One entry per paper per delivery: the id names both, so it never changes and never repeats.
          id: `${own}#delivery-${d.id}`,
          title: p.title,
          url: facts.readUrl,
          related: facts.links.filter((l) => l.url !== facts.readUrl).map((l) => ({ url: l.url, title: l.label })),
          authors: p.authorNames,
          ...(p.publishedOn ? { published: `${p.publishedOn}T00:00:00Z` } : {}),
          updated: d.sent_at,
          summary: [head, facts.tldr ? `TL;DR: ${facts.tldr}` : '', excerpt(p.abstract)].filter(Boolean).join('\n\n'),
          categories: [`${d.frequency} ${d.kind} digest ${d.local_date}`],
        });
      }
    }
    const xml = atomXml({
      id: selfUrl,
      title: 'paperboy: your digests',
      subtitle: 'The papers your paperboy emails carried, newest first.',
      selfUrl,
      siteUrl: `${siteUrl}/`,
      updated: deliveries[0]?.sent_at ?? reader.created_at,
      entries,
    });
    // Private: a shared cache must not keep one reader's feed.
    return reply.header('content-type', 'application/atom+xml; charset=utf-8').header('cache-control', 'private, max-age=300').send(xml);
  });
}

/**
 * What the preferences page shows beside the form: the last digest's papers with more/less buttons, what the reader
 * told us (with undo), and the private feed's address. The paper links carry a feedback token, so the paper page
 * offers the same two buttons.
 */
export function readerPanel(deps: Pick<WebDeps, 'store' | 'secret' | 'config'>, s: Subscriber) {
  const repo = createFeedbackRepository(deps.store);
  const papers = createPapersRepo(deps.store);
  const siteUrl = deps.config.PUBLIC_URL.replace(/\/+$/, '');
  const recent = repo.recent(s.id, RECENT_FEEDBACK);
  const said = new Map(recent.map((f) => [f.paper_id, f.signal]));
  const last = repo.sentDeliveries(s.id, 1)[0];
  const lastPapers = (last?.paper_ids ?? [])
    .map((id) => papers.get(id))
    .filter((p): p is Paper => p !== null)
    .map((p) => {
      const current = said.get(p.id) ?? repo.get(s.id, p.id)?.signal ?? null;
      return {
        id: p.id,
        title: clean(p.title),
        pageUrl: `/papers/${p.id}?fb=${signFeedbackToken(s.id, p.id, deps.secret)}`,
        current: current ? MESSAGES.said[current] : null,
        isMore: current === 'more',
        isLess: current === 'less',
      };
    });
  return {
    feedUrl: `${siteUrl}${readerFeedPath(deps.secret, s.id)}`,
    lastDigest: last ? { when: last.frequency === 'weekly' ? `the week ${last.local_date}` : shortDate(last.local_date), papers: lastPapers } : null,
    recentFeedback: recent.map((f) => ({
      paperId: f.paper_id,
      title: clean(f.title),
      said: MESSAGES.said[f.signal],
      less: f.signal === 'less',
      on: shortDate(f.created_at.slice(0, 10)),
    })),
  };
}
