/**
 * Starting a container, attached or detached, and the monitor process that records a
 * detached one's exit. These are the executor's (container/start.ts), re-exported so a front
 * end calls services only.
 */
export { startAttached, startDetached, type DetachedStartOptions } from '../container/start.ts';
export { runMonitor } from '../container/monitor.ts';
export { awaitMonitorOrder, MonitorStandby, type MonitorLauncher } from '../container/monitor-standby.ts';
