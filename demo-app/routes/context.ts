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
}
