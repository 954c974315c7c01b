/** What the API's handlers are given: the engine the server opened, and the server's own facts. */
import type { Engine } from '../engine.ts';
import type { MonitorLauncher } from '../services/start.ts';

export interface ApiDeps {
  readonly engine: Engine;
  /** berth's version, as `Server`, `/version` and `/info` show it. */
  readonly serverVersion: string;
  /** Where a start's monitor process comes from (the server's standby); a fresh one when unset. */
  readonly monitors?: MonitorLauncher;
}
