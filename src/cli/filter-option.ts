/**
 * `-f, --filter key=value`, repeatable, as the docker CLI takes it on list and prune verbs:
 * a value without `=` is a usage error (exit 125) before anything is opened; the rest become
 * the shared `FilterArgs` (services/filters) the engine checks and applies.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { BAD_FILTER_FORMAT, type FilterArgs, filtersFromFlags } from '../services/filters/args.ts';

function collectFilter(value: string, previous: string[] = []): string[] {
  if (!value.includes('=')) throw new InvalidArgumentError(BAD_FILTER_FORMAT);
  return [...previous, value];
}

/** Listing verbs spell it `-f, --filter`; prune verbs, where `-f` is `--force`, only `--filter`. */
export function addFilterOption(cmd: Command, opts: { short: boolean; description?: string }): Command {
  const flags = opts.short ? '-f, --filter <filter>' : '--filter <filter>';
  const description = opts.description ?? (opts.short ? 'filter output based on conditions provided' : "provide filter values (e.g. 'until=<timestamp>')");
  return cmd.addOption(new Option(flags, description).argParser(collectFilter));
}

/** The `--filter` flags given, as filter arguments. */
export function cliFilters(specs: readonly string[] | undefined): FilterArgs {
  return filtersFromFlags(specs ?? []);
}
