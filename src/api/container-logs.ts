/**
 * `GET /containers/{id}/logs`: the json log (services/container-io.ts) as a chunked 200, one
 * multiplexed frame per line when the container has no TTY, raw bytes for a TTY's.
 * `timestamps` puts the line's time and a space inside the payload; `follow` goes on until
 * the container stops running or the client goes away.
 */
import type { ServerResponse } from 'node:http';
import type { Engine } from '../engine.ts';
import { detailsPrefix } from '../container/log-time.ts';
import { BerthError } from '../errors/index.ts';
import { followLogs, type LogLine, visitContainerLogs } from '../services/container-io.ts';
import { dropClient, SLOW_CLIENT_LIMIT } from './container-attach.ts';
import type { ApiContext, Query } from './http.ts';
import { versionAtLeast } from './router.ts';
import { frame, StreamType, streamContentType } from './streams.ts';

/** A `since`/`until` value: unix seconds with an optional fraction (what the CLI sends), or an RFC 3339 time; undefined when absent or 0. */
export function parseLogTime(q: Query, key: string): number | undefined {
  const v = q.get(key);
  if (v === undefined || v === '' || v === '0') return undefined;
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (Number.isNaN(ms)) throw new BerthError('INVALID_ARGUMENT', `invalid value for ${key}: ${JSON.stringify(v)}`);
  return ms;
}

/** `tail`: a count of last lines, or every line for `all`, nothing, or anything else (as dockerd). */
function parseTail(q: Query): number | undefined {
  const v = q.get('tail');
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export async function streamLogs(engine: Engine, ctx: ApiContext): Promise<void> {
  const rec = engine.containers.require(ctx.params.id!);
  // Before the 200 goes out: docker's answer for a container whose driver keeps no log.
  if (rec.config.logConfig?.type === 'none') throw new BerthError('UNSUPPORTED', 'configured logging driver does not support reading');
  const q = ctx.query;
  const stdout = q.bool('stdout');
  const stderr = q.bool('stderr');
  if (!stdout && !stderr) throw new BerthError('INVALID_ARGUMENT', 'Bad parameters: you must choose at least one stream');
  const since = parseLogTime(q, 'since');
  const until = parseLogTime(q, 'until');
  const tail = parseTail(q);
  const timestamps = q.bool('timestamps');
  const multiplexed = !rec.config.tty;
  const wanted = (l: LogLine): boolean => {
    if (!(l.stream === 'stdout' ? stdout : stderr)) return false;
    if (since === undefined && until === undefined) return true;
    const t = Date.parse(l.time);
    return (since === undefined || t > since) && (until === undefined || t <= until);
  };
  const res = ctx.res!;
  // dockerd before API 1.42 gives a log no Content-Type at all.
  res.writeHead(200, versionAtLeast(ctx.version, '1.42') ? { 'Content-Type': streamContentType(ctx.version, multiplexed) } : {});
  res.flushHeaders();
  const details = q.bool('details');
  const encode = (l: LogLine): Buffer => {
    const text = details ? `${detailsPrefix(l.attrs)}${l.log}` : l.log;
    const payload = Buffer.from(timestamps ? `${l.time} ${text}` : text);
    return multiplexed ? frame(l.stream === 'stdout' ? StreamType.Stdout : StreamType.Stderr, payload) : payload;
  };
  // The stored log is read and sent at the client's pace, never held whole; only a tail's
  // last lines are kept. A followed line is dropped on a client too slow for it.
  const send = async (l: LogLine): Promise<void> => {
    if (!res.destroyed && !res.write(encode(l))) await drained(res);
  };
  let id: string;
  let end: number;
  if (tail === undefined) {
    ({ id, end } = await visitContainerLogs(engine, rec.id, (l) => (wanted(l) ? send(l) : undefined), { signal: ctx.signal }));
  } else {
    const last: LogLine[] = [];
    ({ id, end } = await visitContainerLogs(
      engine,
      rec.id,
      (l) => {
        if (!wanted(l)) return;
        last.push(l);
        if (last.length > tail) last.shift();
      },
      { signal: ctx.signal },
    ));
    for (const l of last) await send(l);
  }
  if (res.destroyed) return;
  const follow = (l: LogLine): void => {
    if (!wanted(l) || res.destroyed) return;
    if (res.writableLength > SLOW_CLIENT_LIMIT) dropClient(ctx);
    else res.write(encode(l));
  };
  if (q.bool('follow') && (until === undefined || until > Date.now())) await followLogs(engine, id, end, follow, { signal: ctx.signal });
  if (!res.destroyed) res.end();
}

/** Resolves when `res` can take more, or is closed. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
