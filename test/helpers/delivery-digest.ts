// A small but real DigestSource over the papers table for delivery tests: fixed order, real sent_papers filtering, escaped HTML.
// The lead swaps in the digest branch's source at merge; this one only has to honour the port in src/delivery/ports.ts.
import { createHmac } from 'node:crypto';
import type { Store } from '../../src/db/open.js';
import type { Config } from '../../src/config.js';
import { SLOT_TOKENS } from '../../src/render/placeholders.js';
import type { DigestSource, PreparedDigest, RecipientLinks, Selection, DeliverySubscriber, DigestKind } from '../../src/delivery/ports.js';

interface PaperRow {
  id: number;
  title: string;
  abstract: string;
  upvotes: number | null;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function testToken(secret: string, subscriberId: number): string {
  const body = Buffer.from(String(subscriberId)).toString('base64url');
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url').slice(0, 22)}`;
}

export function createSimpleDigest(store: Store, config: Config, counters?: { renders: number; prepares: number }): DigestSource {
  const sentFor = store.db.prepare('SELECT paper_id FROM sent_papers WHERE subscriber_id = ?').pluck();
  return {
    prepare(kind: DigestKind, date: string): PreparedDigest {
      if (counters) counters.prepares++;
      const order = kind === 'new' ? 'COALESCE(published_on, first_listed_on) DESC, id DESC' : 'COALESCE(upvotes, 0) DESC, id';
      const papers = store.db.prepare(`SELECT id, title, abstract, upvotes FROM papers ORDER BY ${order}`).all() as PaperRow[];
      const byId = new Map(papers.map((p) => [p.id, p]));
      return {
        select(sub: DeliverySubscriber) {
          const seen = new Set(sentFor.all(sub.id) as number[]);
          const ids = papers.filter((p) => !seen.has(p.id)).slice(0, sub.digest_size).map((p) => p.id);
          if (ids.length === 0) return { nothing: 'every paper has been sent already' };
          return { key: `${kind}:${ids.join(',')}`, paperIds: ids };
        },
        render(sel: Selection) {
          const links = SLOT_TOKENS;
          if (counters) counters.renders++;
          const chosen = sel.paperIds.map((id) => byId.get(id)!);
          const cards = chosen
            .map((p) => `<tr><td style="padding:12px 0;font-family:Helvetica,Arial,sans-serif;font-size:15px;line-height:1.4"><h2 style="margin:0">${esc(p.title)}</h2><p>${esc(p.abstract)}</p></td></tr>`)
            .join('\n');
          // One long footer line on purpose: quoted-printable has to break it, possibly inside a placeholder.
          const footer = `<p style="font-size:12px;color:#666666;font-family:Helvetica,Arial,sans-serif">You get this because you subscribed — <a href="${esc(links.manageUrl)}" style="color:#666666">preferences</a> · <a href="${esc(links.unsubscribeUrl)}" style="color:#666666">unsubscribe</a> · sent to ${esc(links.email)} · ${esc(config.SENDER_ADDRESS_LINE)}</p>`;
          return {
            subject: `${chosen.length} papers for ${date}: ${chosen[0]!.title}`,
            html: `<!doctype html><html><body><table>${cards}</table>${footer}</body></html>`,
            text: chosen.map((p, i) => `${i + 1}. ${p.title}\n${p.abstract}\n`).join('\n') + `\nSent to ${links.email}.\nPreferences: ${links.manageUrl}\nUnsubscribe: ${links.unsubscribeUrl}\n`,
          };
        },
      };
    },
    links(subscriberId: number): RecipientLinks {
      // Like the web branch's signSubscriberToken: there is no token for a non-subscriber.
      if (!Number.isSafeInteger(subscriberId) || subscriberId < 1) throw new Error(`not a subscriber id: ${subscriberId}`);
      const token = testToken(config.SECRET_KEY ?? 'test-secret', subscriberId);
      return {
        unsubscribeUrl: `${config.PUBLIC_URL}/unsubscribe/${token}`,
        unsubscribeMailto: `mailto:unsubscribe+${token}@${config.MAIL_DOMAIN}`,
        manageUrl: `${config.PUBLIC_URL}/manage/${token}`,
      };
    },
  };
}
