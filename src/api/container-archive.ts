/**
 * `GET|HEAD|PUT /containers/{id}/archive?path=`, what `docker cp` uses both ways: the path's
 * stat goes in `X-Docker-Container-Path-Stat` (base64 JSON), a GET streams its tar, and a PUT
 * streams the body's tar into the dir `path` names, inside the container's rootfs.
 */
import { pipeline } from 'node:stream/promises';
import { BerthError } from '../errors/index.ts';
import { archiveContainerPath, extractToContainer, type PathStat, statContainerPath } from '../services/container-io.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiContext } from './http.ts';
import { type Route, route } from './router.ts';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function requiredPath(ctx: ApiContext): string {
  const path = ctx.query.get('path');
  if (!path) throw new BerthError('INVALID_ARGUMENT', 'Bad parameter: path cannot be empty');
  return path;
}

function statHeader(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}

async function getArchive(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const engine = deps.engine;
  const name = ctx.params.id!;
  engine.containers.require(name);
  const path = requiredPath(ctx);
  const res = ctx.res!;
  if (ctx.method === 'HEAD') {
    const stat = await statContainerPath(engine, name, path);
    res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/json' });
    res.end();
    return;
  }
  await archiveContainerPath(
    engine,
    name,
    path,
    async (stat, tar) => {
      res.writeHead(200, { [STAT_HEADER]: statHeader(stat), 'Content-Type': 'application/x-tar' });
      await pipeline(tar, res).catch(() => tar.destroy());
    },
    { signal: ctx.signal },
  );
}

async function putArchive(deps: ApiDeps, ctx: ApiContext): Promise<void> {
  const engine = deps.engine;
  const name = ctx.params.id!;
  engine.containers.require(name);
  const path = requiredPath(ctx);
  await extractToContainer(engine, name, path, ctx.req, { noOverwriteDirNonDir: ctx.query.bool('noOverwriteDirNonDir'), signal: ctx.signal });
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Length': 0 });
  res.end();
}

export function archiveRoutes(deps: ApiDeps): Route[] {
  return [route('GET', '/containers/:id/archive', (ctx) => getArchive(deps, ctx)), route('PUT', '/containers/:id/archive', (ctx) => putArchive(deps, ctx))];
}
