// Owns the public web archive: /digest/:date, /papers/:id, /feed.xml and /api/papers, mirroring the digest.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { decimalInt } from '../web/params.js';
import { PageError } from '../web/route-context.js';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { createSelector, formatDate, isIsoDay, todayUtc, type Selector } from '../digest/select.js';
import { normalizeTopics } from '../digest/pool.js';
import { clean, createRenderer, DEFAULT_TEMPLATES_DIR, type Renderer } from '../render/renderer.js';
import { excerpt } from '../render/excerpt.js';
import { SourceRow } from '../corpus/papers-repo.js';
import { atomXml } from './atom.js';
import { paperFacts } from '../render/paper-facts.js';
import { DAILY_PAPERS } from '../corpus/sources/daily-papers.js';
import { createPages, type Pages } from './pages.js';
import { verifyFeedbackToken } from '../subscriptions/tokens.js';
import type { Views } from '../web/views.js';

export interface ArchiveDeps {
  store: Store;
  clock: Clock;
  config: Pick<Config, 'PUBLIC_URL' | 'SENDER_ADDRESS_LINE' | 'DIGEST_SIZE_DEFAULT'>;
  templatesDir?: string;
  /** The site's pages (templates/web), when the web server has them loaded already. */
  views?: Views;
  /** Whether a request is an admin's: only admins see which seed file and line listed a paper. */
  isAdmin?: (req: FastifyRequest) => boolean;
  /** Shared with the rest of the app when given; built here otherwise. */
  renderer?: Renderer;
  selector?: Selector;
  /** Link-signing key: with it, /papers/:id?fb=<feedback token> offers that reader "more/less like this". */
  secret?: string;
}

/** Every message these pages show a person. */
const MESSAGES = {
  badDate: 'Dates look like 2026-03-10.',
  futureDate: (d: string) => `The digest for ${formatDate(d)} is not out yet.`,
  noDigest: (reason: string) => `Nothing to show: ${reason}.`,
  noPaper: 'There is no paper with that number.',
  badQuery: 'Invalid query parameters.',
} as const;

export const ApiPapersQuery = z.object({
  sort: z.enum(['trending', 'new'], { error: 'sort must be trending or new' }).default('trending'),
  topic: z.string().trim().max(100, { error: 'topic must be at most 100 characters' }).optional(),
  limit: decimalInt(1, 100, 'limit must be a whole number from 1 to 100').default(20),
});

const IsoDate = z.string().refine(isIsoDay);
// The editions index shows about a year; older ones stay reachable by date and by "previous".
const MAX_EDITIONS_LISTED = 366;
const MONTH_LABEL = new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
const PaperId = decimalInt(1, Number.MAX_SAFE_INTEGER);

// Answered by the site's error handler: the site's error page for a browser, JSON for a JSON client.
const pageError = (status: number, title: string, line: string) => new PageError(status, { title, heading: title, lines: [line] });

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').send(html);
}

/**
 * Sets an area's own CSP on its HTML answers, from inside its own (encapsulated) context, so it runs after the
 * app-wide onSend hook. The archive no longer needs one (its pages are the site's); the admin preview still does.
 */
export function useOwnCsp(app: FastifyInstance, csp: string): void {
  app.addHook('onSend', async (_req, reply) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('content-security-policy', csp);
  });
}

/** Adds the archive routes. Its pages are the site's: the site's layout, stylesheet and CSP. */
export async function registerArchiveRoutes(app: FastifyInstance, deps: ArchiveDeps): Promise<void> {
  addArchiveRoutes(app, deps);
}

function addArchiveRoutes(app: FastifyInstance, deps: ArchiveDeps): void {
  const { store, clock, config } = deps;
  const templatesDir = deps.templatesDir ?? DEFAULT_TEMPLATES_DIR;
  const renderer = deps.renderer ?? createRenderer({ templatesDir, config });
  // A fresh pool each minute at most, so papers ingested while serving show up.
  const selector = deps.selector ?? createSelector({ store, clock, poolMaxAgeMs: 60_000 });
  const siteUrl = config.PUBLIC_URL.replace(/\/+$/, '');
  const pages: Pages = createPages({ templatesDir, config, today: () => todayUtc(clock), ...(deps.views ? { views: deps.views } : {}) });
  const isAdmin = deps.isAdmin ?? (() => false);

  /** Edition days, newest first: the days some paper was listed or published, up to today (and today itself). */
  // Read at most once a minute (a scan of the papers table), like the pool: listings ingested while serving show up.
  let editions: { today: string; at: number; days: string[] } | null = null;
  const editionDays = (): string[] => {
    const today = todayUtc(clock);
    const now = clock.now().getTime();
    if (!editions || editions.today !== today || now - editions.at > 60_000) {
      const days = store
        .q('archive-edition-days')
        .all({ today })
        .map((r) => r.day);
      editions = { today, at: now, days: days[0] === today ? days : [today, ...days] };
    }
    return editions.days;
  };

  app.get('/digest', async (_req, reply) => {
    const days = editionDays().slice(0, MAX_EDITIONS_LISTED);
    const months: { label: string; days: { date: string; label: string }[] }[] = [];
    for (const d of days) {
      const label = MONTH_LABEL.format(new Date(`${d}T00:00:00Z`));
      if (months.at(-1)?.label !== label) months.push({ label, days: [] });
      months.at(-1)!.days.push({ date: d, label: formatDate(d) });
    }
    return sendPage(reply, 200, pages.render('editions', { title: 'Editions', months, empty: days.length === 0 }));
  });

  app.get<{ Params: { date: string } }>('/digest/:date', async (req, reply) => {
    const date = req.params.date;
    if (!IsoDate.safeParse(date).success) throw pageError(400, 'Not a date', MESSAGES.badDate);
    if (date > todayUtc(clock)) throw pageError(404, 'Not out yet', MESSAGES.futureDate(date));
    const r = selector.select({ kind: 'trending', size: config.DIGEST_SIZE_DEFAULT }, date);
    if (r.status === 'empty') throw pageError(404, 'No digest', MESSAGES.noDigest(r.message));
    const days = editionDays();
    const prev = days.find((d) => d < date);
    const next = days.findLast((d) => d > date);
    const view = renderer.digestView(r.selection);
    const at = (d: string | undefined) => (d ? { date: d, label: formatDate(d) } : null);
    return sendPage(reply, 200, pages.render('digest', { title: view.headline, digest: view, prev: at(prev), next: at(next) }));
  });

  /** The reader's two buttons when the page was opened with their feedback token for this very paper. */
  const feedbackFor = (fb: unknown, paperId: number) => {
    if (typeof fb !== 'string' || !deps.secret) return null;
    const ids = verifyFeedbackToken(fb, deps.secret);
    if (!ids || ids.paperId !== paperId) return null;
    const reader = store.q('subscriber-get-by-id').get(ids.subscriberId);
    if (reader?.status !== 'active') return null;
    const said = store.q('feedback-get').get(ids.subscriberId, paperId)?.signal;
    return { token: fb.trim().toLowerCase(), said: said === 1 ? 'more like this' : said === -1 ? 'less like this' : null };
  };

  app.get<{ Params: { id: string }; Querystring: { fb?: string } }>('/papers/:id', async (req, reply) => {
    const id = PaperId.safeParse(req.params.id);
    const pool = selector.pool(todayUtc(clock));
    const paper = id.success
      ? (() => {
          try {
            return pool.paper(id.data);
          } catch {
            return null;
          }
        })()
      : null;
    if (!id.success || !paper) throw pageError(404, 'No such paper', MESSAGES.noPaper);
    const sources = store
      .q('digest-paper-sources')
      .all(paper.id)
      .map((s) => SourceRow.parse(s));
    const facts = paperFacts(paper, `${siteUrl}/papers/${paper.id}`);
    const listings = new Set(sources.map((s) => s.listed_on ?? s.file)).size;
    const meta = [...facts.counts, ...facts.dates, ...(listings > 0 ? [`on ${listings === 1 ? '1 listing' : `${listings} listings`}`] : [])].join(' · ');
    const admin = isAdmin(req);
    return sendPage(
      reply,
      200,
      pages.render('paper', {
        title: clean(paper.title),
        // Named for what it shows: the seed file and line columns (only an admin sees them).
        seedFiles: admin,
        paper: {
          title: clean(paper.title),
          // This page is where every name goes; the cards show the first few.
          authors: clean(paper.authorNames.length ? paper.authorNames.join(', ') : (facts.authorsLine ?? '')),
          organization: paper.organization ? clean(paper.organization) : '',
          meta,
          tldr: paper.tldr ? clean(paper.tldr) : '',
          abstract: clean(paper.abstract),
          arxivId: paper.arxivId,
          links: facts.links.filter((l) => l.kind !== 'details').map((l) => ({ url: l.url, label: l.label })),
          // The public sees where and when a paper was listed; which seed file and line said so is for admins.
          sources: sources.map((s) => {
            // An API listing's "line" is the paper id (fetch-merge.ts): only its day and rank mean something.
            const api = s.file.startsWith(`${DAILY_PAPERS} `);
            return {
              where: api || s.listed_on ? 'Daily Papers' : 'A listing',
              file: admin ? (api ? 'Daily Papers API' : s.file) : '',
              line: admin && !api ? s.line : '',
              position: s.position,
              listedOn: s.listed_on ? formatDate(s.listed_on) : 'undated',
              date: s.listed_on && isIsoDay(s.listed_on) && s.listed_on <= todayUtc(clock) ? s.listed_on : '',
            };
          }),
        },
        feedback: feedbackFor(req.query.fb, paper.id),
      }),
    );
  });

  app.get('/feed.xml', async (_req, reply) => {
    const today = todayUtc(clock);
    const r = selector.select({ kind: 'trending', size: Math.max(20, config.DIGEST_SIZE_DEFAULT) }, today);
    const items = r.status === 'selected' ? r.selection.sections.flatMap((s) => s.items) : [];
    const xml = atomXml({
      id: `${siteUrl}/feed.xml`,
      title: 'paperboy: trending papers',
      subtitle: 'The papers people are reading and upvoting most, as in the daily digest.',
      selfUrl: `${siteUrl}/feed.xml`,
      siteUrl: `${siteUrl}/digest/${today}`,
      updated: clock.now().toISOString(),
      entries: items.map((i) => {
        const own = `${siteUrl}/papers/${i.paper.id}`;
        const facts = paperFacts(i.paper, own);
        const head = [facts.authorsLine, facts.organization, ...facts.counts, ...facts.dates].filter(Boolean).join(' · ');
        return {
          // The id stays our page (an entry's id never changes); the link goes to the paper itself.
          id: own,
          title: i.paper.title,
          url: facts.readUrl,
          related: facts.links.filter((l) => l.url !== facts.readUrl).map((l) => ({ url: l.url, title: l.label })),
          authors: i.paper.authorNames,
          published: i.paper.publishedOn ? `${i.paper.publishedOn}T00:00:00Z` : undefined,
          updated: `${i.score.effectiveDate}T00:00:00Z`,
          summary: [head, facts.tldr ? `TL;DR: ${facts.tldr}` : '', `${excerpt(i.paper.abstract)} (${i.why})`].filter(Boolean).join('\n\n'),
        };
      }),
    });
    return reply.header('content-type', 'application/atom+xml; charset=utf-8').send(xml);
  });

  app.get('/api/papers', async (req, reply) => {
    const parsed = ApiPapersQuery.safeParse(req.query);
    if (!parsed.success) {
      return reply.code(400).send({
        error: MESSAGES.badQuery,
        issues: parsed.error.issues.map((i) => ({ param: String(i.path[0] ?? ''), message: i.message })),
      });
    }
    const { sort, topic, limit } = parsed.data;
    const date = todayUtc(clock);
    const pool = selector.pool(date);
    const topics = normalizeTopics(topic ? [topic] : []);
    // With a topic the API lists only matching papers (a feed reader asked for that topic); the email fills up.
    const ids = topics.length ? pool.orderedMatches(sort, topics) : pool.ordered(sort).map((c) => c.id);
    const papers = ids.slice(0, limit).map((id) => {
      const c = pool.byId.get(id)!;
      const p = pool.paper(id);
      const facts = paperFacts(p, `${siteUrl}/papers/${p.id}`);
      const link = (kind: string) => facts.links.find((l) => l.kind === kind)?.url ?? null;
      return {
        id: p.id,
        title: p.title,
        url: `${siteUrl}/papers/${p.id}`,
        /** Where "Read the paper" goes: arXiv when the id is known, else `url`. */
        paper_url: facts.readUrl,
        arxiv_id: p.arxivId,
        pdf_url: link('pdf'),
        daily_papers_url: link('daily-papers'),
        tldr: p.tldr,
        excerpt: excerpt(p.abstract),
        authors: p.authors,
        author_names: p.authorNames,
        organization: p.organization,
        published_on: p.publishedOn,
        listed_on: p.firstListedOn,
        upvotes: p.upvotes ?? 0,
        upvotes_today: c.score.gains?.day ?? null,
        upvotes_week: c.score.gains?.week ?? null,
        comments: p.comments,
        lists: c.score.lists,
        score: Number(c.score.score.toFixed(4)),
        links: p.links,
        matches: topics.filter((t) => pool.matches(t).has(id)),
      };
    });
    return reply.send({ sort, topic: topics[0] ?? null, date, count: papers.length, papers });
  });
}

/** The same routes as a Fastify plugin, for `app.register(archivePlugin, deps)`. */
export async function archivePlugin(app: FastifyInstance, deps: ArchiveDeps): Promise<void> {
  addArchiveRoutes(app, deps);
}
