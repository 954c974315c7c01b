/**
 * `POST /containers/{id}/update`: new resource limits, as `berth update` sets them (the same
 * service). In docker's body a zero or absent field leaves its limit as it is.
 */
import { BerthError } from '../../errors/index.ts';
import { type ResourceUpdate, updateContainer } from '../../services/container-update.ts';
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

async function update(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const body = await readJson(ctx);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BerthError('INVALID_ARGUMENT', 'the body must be a JSON object');
  await updateContainer(deps.engine, ctx.params.id ?? '', updateFromBody(body));
  sendJson(ctx, 200, { Warnings: [] });
}

export function containerUpdateRoutes(deps: ApiDeps): Route[] {
  return [route('POST', '/containers/:id/update', (ctx) => update(deps, ctx))];
}
