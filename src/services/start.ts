/**
 * Starting a container, attached or detached, and the monitor process that records a
 * detached one's exit. These are the executor's (container/start.ts), re-exported so a front
 * end calls services only.
 */
export type { DetachedStartOptions } from '../container/start.ts';
// A start by the user resets the restart count; an attached run with a policy is handed to a monitor (restart.ts).
export { startAttached, startDetached } from './restart.ts';
export { runMonitor } from '../container/monitor.ts';
export { awaitMonitorOrder, MonitorStandby, type MonitorLauncher } from '../container/monitor-standby.ts';
