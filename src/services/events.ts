/**
 * `events`: berth's event log read as docker's: the time bounds and filters of
 * `docker events`, docker's JSON of each event, and a follower that yields new events as
 * any process records them. The CLI's `berth events` and the API's `GET /events` both use it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../errors/index.ts';
import { checkFilterKeys, type FilterArgs, filtersFromFlags, filtersFromJson } from './filters/args.ts';
import { parseTimestamp } from './filters/time.ts';
import { type EventRecords, type EventRow, nowNano } from '../store/events.ts';

const NS_PER_S = 1_000_000_000n;

export { parseGoDuration } from './filters/time.ts';

/**
 * A `since` or `until` value as docker takes it, in nanoseconds since the epoch (see
 * filters/time.ts): Unix seconds, RFC 3339, or a Go duration counted back from `now`.
 */
export function parseEventTime(text: string, now: bigint = nowNano()): bigint {
  return parseTimestamp(text, now);
}

/** The filter keys `docker events` takes; berth's log has events of the first few only. */
const FILTER_KEYS = ['container', 'event', 'image', 'label', 'network', 'type', 'volume', 'scope', 'daemon', 'plugin', 'node', 'service', 'secret', 'config'];

/** docker's `filters`: each key's values; values of one key are alternatives, keys all apply. */
export type EventFilters = FilterArgs;

/**
 * `filters` as the API sends it (`{"type":["container"]}`, or the old `{"type":{"container":true}}`)
 * or as `--filter k=v` flags give it; an unknown key is docker's 400.
 */
export function parseEventFilters(input: Record<string, unknown> | readonly string[] | undefined): EventFilters {
  const args = Array.isArray(input) ? filtersFromFlags(input as readonly string[]) : filtersFromJson(input);
  checkFilterKeys(args, FILTER_KEYS);
  return args;
}

/** Docker's FuzzyMatch: no values, or one that is the source or a prefix of it. */
function fuzzy(values: readonly string[] | undefined, ...sources: Array<string | undefined>): boolean {
  if (!values?.length) return true;
  return values.some((v) => sources.some((s) => s !== undefined && (s === v || s.startsWith(v))));
}

function exact(values: readonly string[] | undefined, ...sources: Array<string | undefined>): boolean {
  if (!values?.length) return true;
  return values.some((v) => sources.includes(v));
}

/** `name:tag` without the tag (a registry's port is no tag). */
function stripTag(name: string): string {
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
}

/** Whether an event passes docker's filters, with docker's rules for each key. */
export function eventMatches(ev: EventRow, filters: EventFilters): boolean {
  const f = (k: string) => filters.get(k);
  const attrs = ev.attributes;
  const actor = (type: string) => (ev.type === type ? [ev.actorId, attrs.name] : [undefined]);
  const imageName = ev.type === 'image' ? attrs.name : attrs.image;
  return (
    exact(f('scope'), 'local') &&
    exact(f('type'), ev.type) &&
    exact(f('event'), ev.action, ev.action.split(':')[0]) &&
    fuzzy(f('container'), ...actor('container')) &&
    fuzzy(f('volume'), ...actor('volume')) &&
    fuzzy(f('network'), ...actor('network')) &&
    fuzzy(f('plugin'), ...actor('plugin')) &&
    fuzzy(f('daemon'), ...actor('daemon')) &&
    exact(f('image'), ev.actorId, imageName, stripTag(ev.actorId), imageName === undefined ? undefined : stripTag(imageName)) &&
    // Every label filter must hold (docker's MatchKVList), unlike the other keys' alternatives.
    (f('label') ?? []).every((l) => {
      const i = l.indexOf('=');
      return i < 0 ? l in attrs : attrs[l.slice(0, i)] === l.slice(i + 1);
    })
  );
}

/**
 * Docker's JSON of an event, as one line of text: `status`, `id` and `from` only for
 * containers (the pre-1.22 fields docker still sends for them), `timeNano` exact.
 */
export function eventJson(ev: EventRow): string {
  const legacy = ev.type === 'container' ? { status: ev.action, id: ev.actorId, from: ev.attributes.image ?? '' } : {};
  const body = JSON.stringify({
    ...legacy,
    Type: ev.type,
    Action: ev.action,
    Actor: { ID: ev.actorId, Attributes: ev.attributes },
    scope: 'local',
    time: Number(ev.timeNano / NS_PER_S),
  });
  return `${body.slice(0, -1)},"timeNano":${ev.timeNano}}`;
}

/** An event's object with `timeNano` as a number (what a `--format` template reads). */
export function eventObject(ev: EventRow): Record<string, unknown> {
  return { ...(JSON.parse(eventJson(ev).replace(/"timeNano":(\d+)/, '"timeNano":"$1"')) as Record<string, unknown>), timeNano: Number(ev.timeNano) };
}

export interface EventQuery {
  /** Nanoseconds; events from then on are replayed. Unset: only events from now on. */
  readonly since?: bigint;
  /** Nanoseconds; the stream ends there (at once when it is past). Unset: it follows until `signal`. */
  readonly until?: bigint;
  readonly filters?: EventFilters;
  readonly signal?: AbortSignal;
  /** How often the log is read for new rows, in ms. */
  readonly pollMs?: number;
}

/** Docker's check of the bounds, made before a stream starts so that it can still be a 400. */
export function checkEventQuery(q: Pick<EventQuery, 'since' | 'until'>): void {
  if (q.since !== undefined && q.until !== undefined && q.since > q.until) {
    throw new BerthError('INVALID_ARGUMENT', '`since` time cannot be after `until` time');
  }
}

/**
 * The events of `q` in order: the recorded ones from `since`, then new ones as they are
 * recorded (by any process of the root), until `until` or the signal. The log is followed by
 * id, so an event recorded while the replay is read is neither lost nor seen twice.
 */
export async function* followEvents(log: Pick<EventRecords, 'list' | 'lastId'>, q: EventQuery): AsyncGenerator<EventRow> {
  checkEventQuery(q);
  const filters = q.filters ?? new Map();
  let cursor = log.lastId();
  if (q.since !== undefined || q.until !== undefined) {
    for (const ev of log.list({ throughId: cursor, sinceNano: q.since ?? 0n, untilNano: q.until })) if (eventMatches(ev, filters)) yield ev;
  }
  const poll = q.pollMs ?? 100;
  for (;;) {
    if (q.signal?.aborted) return;
    if (q.until !== undefined && nowNano() > q.until) {
      // Rows committed up to now may still carry times before `until`: read them once more.
      for (const ev of log.list({ afterId: cursor, untilNano: q.until })) if (eventMatches(ev, filters)) yield ev;
      return;
    }
    for (const ev of log.list({ afterId: cursor })) {
      cursor = ev.id;
      if (q.until !== undefined && ev.timeNano > q.until) continue;
      if (eventMatches(ev, filters)) yield ev;
    }
    await sleep(poll, undefined, { signal: q.signal }).catch(() => undefined);
  }
}
