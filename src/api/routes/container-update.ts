/**
 * `POST /containers/{id}/update`: new resource limits and restart policy, as `berth update` sets
 * them (the same services). In docker's body a zero or absent field leaves its limit as it is.
 */
import { BerthError } from '../../errors/index.ts';
import { type ResourceUpdate, updateContainer } from '../../services/container-update.ts';
import { updateRestartPolicy } from '../../services/restart.ts';
import type { ApiDeps } from '../deps.ts';
import { type ApiContext, readJson, sendJson } from '../http.ts';
import { type Route, route } from '../router.ts';

function numberField(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BerthError('INVALID_ARGUMENT', `invalid ${key}: ${JSON.stringify(v)}`);
  return v;
}

/** The limits docker's update body changes, in the service's terms. */
export function updateFromBody(body: Record<string, unknown>): ResourceUpdate {
  const nano = numberField(body, 'NanoCpus');
  const cpuset = body.CpusetCpus;
  if (cpuset !== undefined && cpuset !== null && typeof cpuset !== 'string') throw new BerthError('INVALID_ARGUMENT', 'invalid CpusetCpus');
  return {
    memory: numberField(body, 'Memory'),
    memorySwap: numberField(body, 'MemorySwap'),
    cpus: nano === undefined ? undefined : nano / 1e9,
    cpuShares: numberField(body, 'CpuShares'),
    cpusetCpus: cpuset || undefined,
    pidsLimit: numberField(body, 'PidsLimit'),
  };
}

/** RestartPolicy of docker's update body as the flag's text (`on-failure:3`); undefined when absent or empty. */
export function restartSpecFromBody(body: Record<string, unknown>): string | undefined {
  const rp = body.RestartPolicy;
  if (rp === undefined || rp === null) return undefined;
  if (typeof rp !== 'object' || Array.isArray(rp)) throw new BerthError('INVALID_ARGUMENT', 'invalid RestartPolicy');
  const { Name, MaximumRetryCount } = rp as { Name?: unknown; MaximumRetryCount?: unknown };
  if (Name === undefined || Name === '') return undefined;
  if (typeof Name !== 'string') throw new BerthError('INVALID_ARGUMENT', 'invalid RestartPolicy.Name');
  if (MaximumRetryCount === undefined || MaximumRetryCount === null || MaximumRetryCount === 0) return Name;
  if (typeof MaximumRetryCount !== 'number' || !Number.isInteger(MaximumRetryCount))
    throw new BerthError('INVALID_ARGUMENT', 'invalid RestartPolicy.MaximumRetryCount');
  return `${Name}:${MaximumRetryCount}`;
}

async function update(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const body = await readJson(ctx);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BerthError('INVALID_ARGUMENT', 'the body must be a JSON object');
  const id = ctx.params.id ?? '';
  const policy = restartSpecFromBody(body);
  if (policy !== undefined) updateRestartPolicy(deps.engine, id, policy);
  const limits = updateFromBody(body);
  if (Object.values(limits).some((v) => v !== undefined) || policy === undefined) await updateContainer(deps.engine, id, limits);
  sendJson(ctx, 200, { Warnings: [] });
}

export function containerUpdateRoutes(deps: ApiDeps): Route[] {
  return [route('POST', '/containers/:id/update', (ctx) => update(deps, ctx))];
}
