/** `berth events`: the state root's event log, as `docker events` prints it, replayed and followed. */
import type { Command } from 'commander';
import { getEngine, out } from './context.ts';
import { addFilterOption } from './filter-option.ts';
import { compileTemplate, runTemplate } from './format.ts';

const events = () => import('../services/events.ts');

/** docker's RFC3339NanoFixed in local time: `2026-12-07T18:46:40.123456789+01:00`. */
function fixedNano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const offsetMin = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  if (offsetMin === 0) return `${local}.${frac}Z`;
  const abs = Math.abs(offsetMin);
  return `${local}.${frac}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** docker's line: time, type, action, actor, then the attributes sorted as `(k=v, ...)`. */
export function eventLine(ev: { timeNano: bigint; type: string; action: string; actorId: string; attributes: Readonly<Record<string, string>> }): string {
  const attrs = Object.keys(ev.attributes)
    .sort()
    .map((k) => `${k}=${ev.attributes[k]}`);
  return `${fixedNano(ev.timeNano)} ${ev.type} ${ev.action} ${ev.actorId}${attrs.length ? ` (${attrs.join(', ')})` : ''}\n`;
}

export function register(program: Command): void {
  addFilterOption(program.command('events').description('Get real time events from the server'), { short: true })
    .option('--since <time>', 'show all events created since timestamp')
    .option('--until <time>', 'stream events until this timestamp')
    .option('--format <format>', "format output using a custom template: 'json' or a Go template")
    .action(async (o: { since?: string; until?: string; filter?: string[]; format?: string }, cmd: Command) => {
      const { followEvents, parseEventFilters, parseEventTime, eventJson, eventObject } = await events();
      const q = {
        since: o.since ? parseEventTime(o.since) : undefined,
        until: o.until ? parseEventTime(o.until) : undefined,
        filters: parseEventFilters(o.filter),
      };
      // A template that does not parse fails before any event, as docker's (exit 64).
      const template = o.format && o.format !== 'json' && o.format !== '{{json .}}' ? compileTemplate(o.format, 'Error parsing format: ', 64) : undefined;
      const engine = await getEngine(cmd);
      const ac = new AbortController();
      // Interrupted, the follower stops and the command ends as docker's does.
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => ac.abort());
      for await (const ev of followEvents(engine.events, { ...q, signal: ac.signal })) {
        if (o.format === 'json' || o.format === '{{json .}}') out(`${eventJson(ev)}\n`);
        else if (template) out(`${runTemplate(template, eventObject(ev), '')}\n`);
        else out(eventLine(ev));
      }
    });
}
