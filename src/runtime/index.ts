/** The runtime: OCI specs with Docker's defaults, and the executor that runs them on runc. */
export { buildSpec, capabilitySet, composeEnv, parseUlimits, type NetNamespace, type RuntimeOptions, type SpecInput } from './spec.ts';
export { DEFAULT_PATH, type SpecMount } from './defaults.ts';
export { resolveUser, type ResolvedUser } from './user.ts';
export { checkCommand } from './command.ts';
export { parseSecurityOpts, type SecurityOpts } from './security-opt.ts';
export { deviceOf, parseDevice, type DeviceRequest } from './devices.ts';
export { Runc, RUNC, RuncStartWatch, waitForPidFile } from './runc.ts';
export { ensureEmulator, type Emulation } from './emulation.ts';
export { Executor, type ContainerProcess, type ContainerSpec, type ExecutorNetwork, type RunningContainer, type StartIo } from './executor.ts';
