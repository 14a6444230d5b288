// Owns running paperboy as a service: ingest the seeds, then start every long-running part, and stop them in order.
import type { App } from './app.js';
import { ingestPaths, formatWarning } from './corpus/ingest.js';

export interface Service {
  stop(): Promise<void>;
}

export async function startService(app: App): Promise<Service> {
  const { config, log } = app;
  const report = ingestPaths(app.store, [config.SEEDS_DIR], app.clock);
  for (const w of report.warnings) log.warn(formatWarning(w));
  log.info(
    { pages: report.pages, entries: report.entries, added: report.added, updated: report.updated },
    'corpus ingested',
  );
  const stops: Array<() => Promise<void>> = [];
  return {
    async stop() {
      for (const s of stops.reverse()) await s();
    },
  };
}
