// Owns plugging the digest's web parts (public archive, admin preview) into the web server as route plugins.
import type { RoutePlugin } from '../web/server.js';
import { subscriberLinks } from '../subscriptions/links.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR, type Renderer } from '../render/renderer.js';
import { registerArchiveRoutes } from './routes.js';
import { registerAdminPreviewRoutes } from './admin-preview.js';
import { requireAdmin } from '../admin/admin-auth.js';

/** The archive and /admin/preview, sharing one renderer (templates compiled once). */
export function digestRoutes(): RoutePlugin[] {
  let renderer: Renderer | null = null;
  const shared = (config: Parameters<typeof createRenderer>[0]['config']) =>
    (renderer ??= createRenderer({ templatesDir: DEFAULT_TEMPLATES_DIR, config }));
  return [
    (server, deps) => registerArchiveRoutes(server, { store: deps.store, clock: deps.clock, config: deps.config, renderer: shared(deps.config) }),
    (server, deps) =>
      registerAdminPreviewRoutes(server, {
        store: deps.store,
        clock: deps.clock,
        config: deps.config,
        renderer: shared(deps.config),
        // The preview shows the subscriber's real signed links, exactly as the email will carry them.
        linksFor: (s) => subscriberLinks(deps.config, deps.secret, s.id),
        // The same sign-in as every admin page: Bearer for tools, the login cookie for browsers.
        guard: requireAdmin({ config: deps.config, clock: deps.clock }),
      }),
  ];
}
