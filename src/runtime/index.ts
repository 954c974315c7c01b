/** The runtime: OCI specs with Docker's defaults, and the executor that runs them on runc. */
export { buildSpec, capabilitySet, composeEnv, type NetNamespace, type RuntimeOptions, type SpecInput } from './spec.ts';
export { parseUlimit, specJson, specRlimits, RLIM_INFINITY, ULIMIT_TYPES } from './ulimits.ts';
export { autoShmSize, checkHostResources, runtimeBinary } from './host-resources.ts';
export { checkIpcMode, checkPidMode, checkSysctls, joinedContainer, parseSysctl } from './namespaces.ts';
export { DEFAULT_PATH, type SpecMount } from './defaults.ts';
export { resolveUser, type ResolvedUser } from './user.ts';
export { checkCommand } from './command.ts';
export { parseSecurityOpts, type SecurityOpts } from './security-opt.ts';
export { deviceOf, parseDevice, type DeviceRequest } from './devices.ts';
export { Runc, RUNC, RuncStartWatch, waitForPidFile } from './runc.ts';
export { ensureEmulator, type Emulation } from './emulation.ts';
export { Executor, type ContainerProcess, type ContainerSpec, type ExecutorNetwork, type RunningContainer, type StartIo } from './executor.ts';
