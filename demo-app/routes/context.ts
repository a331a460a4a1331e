import type { NodeModel } from '../payloads/node-model.js';
import type { Settings } from '../settings.js';

/** What the endpoints describe: the node, its configuration, its log folder, the clock. */
export interface RouteContext {
  model: NodeModel;
  /** The effective configuration (/configz, feature gates). */
  settings: Settings;
  /** The folder `/logs/` serves; nothing outside it is ever read. */
  logsRoot: string;
  now: () => Date;
  /**
   * The authentication and authorization metrics of the real middleware in front (Prometheus
   * text), appended to `/metrics` as the kubelet's own delegated-auth metrics are. Optional.
   */
  authMetrics?: () => Promise<string>;
}
