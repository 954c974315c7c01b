/**
 * The HostConfig fields of a create body for the container's share of the host (`--ipc`,
 * `--pid`, sysctls, cgroup limits, ulimits, the OCI runtime), checked here and mapped onto
 * the runtime options `berth create` gives for the same flags (cli/run-flags-host.ts). What
 * needs the host or other containers is checked at create (container/namespaces.ts).
 */
import { z } from 'zod';
import { BerthError } from '../errors/index.ts';
import { checkIpcMode, checkPidMode, parseSysctl, parseUlimit, type RuntimeOptions } from '../runtime/index.ts';

const HostResourcesSchema = z
  .object({
    IpcMode: z.string().nullish(),
    PidMode: z.string().nullish(),
    Sysctls: z.record(z.string()).nullish(),
    Ulimits: z.array(z.object({ Name: z.string(), Soft: z.number().int(), Hard: z.number().int() }).passthrough()).nullish(),
    CpuShares: z.number().int().nullish(),
    CpuPeriod: z.number().int().nullish(),
    CpuQuota: z.number().int().nullish(),
    CpusetCpus: z.string().nullish(),
    CpusetMems: z.string().nullish(),
    MemoryReservation: z.number().int().nullish(),
    Runtime: z.string().nullish(),
  })
  .passthrough();

/** The runtime options of a HostConfig's host fields; a malformed one is a 400 naming the field. */
export function hostResourceOptions(hostConfig: unknown): Partial<RuntimeOptions> {
  const parsed = HostResourcesSchema.safeParse(hostConfig ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BerthError('INVALID_ARGUMENT', `invalid container config: HostConfig.${issue.path.join('.')}: ${issue.message}`);
  }
  const hc = parsed.data;
  // '' is docker's own default for both: the container's own namespace.
  const ipcMode = hc.IpcMode || undefined;
  const pidMode = hc.PidMode || undefined;
  checkIpcMode(ipcMode);
  checkPidMode(pidMode);
  const ulimits = (hc.Ulimits ?? []).map((u) => `${u.Name}=${u.Soft}:${u.Hard}`);
  for (const u of ulimits) parseUlimit(u);
  const sysctls = Object.entries(hc.Sysctls ?? {});
  for (const [k, v] of sysctls) parseSysctl(`${k}=${v}`);
  return {
    ulimits,
    ...(ipcMode ? { ipcMode } : {}),
    ...(pidMode ? { pidMode } : {}),
    ...(sysctls.length ? { sysctls: Object.fromEntries(sysctls) } : {}),
    ...(hc.CpuShares ? { cpuShares: hc.CpuShares } : {}),
    ...(hc.CpuPeriod ? { cpuPeriod: hc.CpuPeriod } : {}),
    ...(hc.CpuQuota ? { cpuQuota: hc.CpuQuota } : {}),
    ...(hc.CpusetCpus ? { cpusetCpus: hc.CpusetCpus } : {}),
    ...(hc.CpusetMems ? { cpusetMems: hc.CpusetMems } : {}),
    ...(hc.MemoryReservation ? { memoryReservation: hc.MemoryReservation } : {}),
    ...(hc.Runtime && hc.Runtime !== 'runc' ? { ociRuntime: hc.Runtime } : {}),
  };
}
