// Owns the Atom feed document: every value XML-escaped, characters XML forbids removed.

// XML 1.0 allows tab, LF, CR and everything from U+0020 up (minus the surrogates and U+FFFE/U+FFFF).
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXml(s: string): string {
  return s.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export interface AtomEntry {
  id: string;
  title: string;
  url: string;
  /** More links (`rel="related"`): the PDF, code, project page, our page. */
  related?: { url: string; title: string }[];
  authors?: string[];
  published?: string;
  updated: string;
  summary: string;
  categories?: string[];
}

export interface AtomFeed {
  id: string;
  title: string;
  subtitle: string;
  selfUrl: string;
  siteUrl: string;
  updated: string;
  entries: AtomEntry[];
}

export function atomXml(feed: AtomFeed): string {
  const e = escapeXml;
  const entries = feed.entries
    .map(
      (x) => `  <entry>
    <id>${e(x.id)}</id>
    <title type="text">${e(x.title)}</title>
    <link rel="alternate" type="text/html" href="${e(x.url)}"/>
${(x.related ?? []).map((l) => `    <link rel="related" href="${e(l.url)}" title="${e(l.title)}"/>\n`).join('')}${(x.authors ?? []).map((a) => `    <author><name>${e(a)}</name></author>\n`).join('')}${x.published ? `    <published>${e(x.published)}</published>\n` : ''}    <updated>${e(x.updated)}</updated>
${(x.categories ?? []).map((c) => `    <category term="${e(c)}"/>\n`).join('')}    <summary type="text">${e(x.summary)}</summary>
  </entry>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${e(feed.id)}</id>
  <title type="text">${e(feed.title)}</title>
  <subtitle type="text">${e(feed.subtitle)}</subtitle>
  <link rel="self" type="application/atom+xml" href="${e(feed.selfUrl)}"/>
  <link rel="alternate" type="text/html" href="${e(feed.siteUrl)}"/>
  <updated>${e(feed.updated)}</updated>
  <author><name>paperboy</name></author>
  <generator>paperboy</generator>
${entries}
</feed>
`;
}
