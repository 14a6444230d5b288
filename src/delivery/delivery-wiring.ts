// Owns wiring delivery into a running server: one service, the cron scheduler (with a catch-up tick at start), the admin routes.
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { createDeliveryService, type DeliveryDeps, type DeliveryServiceOptions } from './send-runs.js';
import { startScheduler, type Scheduler } from './scheduler.js';
import { registerAdminSendRoutes } from '../admin/send-routes.js';
import { registerRunPages } from '../admin/run-pages.js';

export interface Delivery {
  service: ReturnType<typeof createDeliveryService>;
  scheduler: Scheduler | null;
  /** A route plugin for buildServer's `routes`: POST /admin/send, GET /admin/send/:id, GET /admin, the Send page and the runs pages. */
  routes: (app: FastifyInstance) => Promise<void>;
  close(): Promise<void>;
}

export function startDelivery(deps: DeliveryDeps & { guard: preHandlerAsyncHookHandler }, opts: DeliveryServiceOptions = {}): Delivery {
  const service = createDeliveryService(deps, opts);
  const scheduler = deps.config.SCHEDULER_ENABLED ? startScheduler(service, deps.log) : null;
  // After downtime, catch up now rather than at the next minute (one digest per subscriber, see schedule.ts).
  void scheduler?.tick();
  return {
    service,
    scheduler,
    routes: async (app) => {
      await registerAdminSendRoutes(app, { service, store: deps.store, clock: deps.clock, config: deps.config, guard: deps.guard });
      await registerRunPages(app, { service, store: deps.store, guard: deps.guard });
    },
    async close() {
      await scheduler?.stop();
      await service.close();
    },
  };
}
