/**
 * The CDI registry: every spec file of the spec directories, loaded and checked, and the
 * devices they define by qualified name. It is read afresh by each command that needs it
 * (there is no daemon to cache it), as the reference's cache is on a refresh:
 *
 * - a directory is scanned for `*.json` and `*.yaml` files; a missing directory is no error;
 * - a file that cannot be read, parsed or validated is recorded as that file's error and
 *   left out, so one broken vendor file does not take the others' devices away;
 * - a later directory has priority over an earlier one (`/var/run/cdi`, written at run time,
 *   over `/etc/cdi`): its device hides the same name from an earlier directory. Two files of
 *   the same directory that define the same device are a conflict: the device is left out
 *   and both files get the error, so asking for it names them.
 *
 * Files are bounded (MAX_SPEC_FILE_BYTES, MAX_SPEC_FILES per directory, YAML aliases): a spec
 * directory is root's, but a runaway generator should give an error, not an engine that eats
 * memory. Run as root, berth refuses a spec file that anyone but root may write.
 */
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, constants } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { errnoCode } from '../errors/index.ts';
import { isRootless } from '../sys/rootless.ts';
import { qualifiedName } from './names.ts';
import { SpecFieldError, validateSpec, type CdiDevice, type CdiSpec } from './spec-schema.ts';

export const MAX_SPEC_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_SPEC_FILES = 1024;

export interface LoadedSpec {
  readonly path: string;
  /** The index of its directory: a higher one wins a name both define. */
  readonly priority: number;
  readonly spec: CdiSpec;
}

export interface RegisteredDevice {
  /** `vendor.com/class=name`. */
  readonly name: string;
  readonly kind: string;
  readonly spec: LoadedSpec;
  readonly device: CdiDevice;
}

export interface SpecError {
  readonly path: string;
  readonly message: string;
}

export interface CdiRegistry {
  readonly dirs: readonly string[];
  readonly specs: readonly LoadedSpec[];
  /** By qualified name, sorted. */
  readonly devices: ReadonlyMap<string, RegisteredDevice>;
  /** Files left out, and conflicts, each with its file. */
  readonly errors: readonly SpecError[];
}

/** The parsed document of a spec file's text: JSON for `.json`, YAML 1.1 (as the reference's decoder reads it) for `.yaml`. */
async function parseDocument(path: string, text: string): Promise<unknown> {
  if (extname(path) === '.json') {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`invalid JSON: ${(e as Error).message}`);
    }
  }
  // Loaded only when a YAML spec is there to read: most commands never need the parser.
  const { parseAllDocuments } = await import('yaml');
  const docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: true, prettyErrors: false });
  if (docs.length > 1) throw new Error('invalid YAML: a spec file holds one document');
  const doc = docs[0];
  if (!doc) return undefined;
  if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  return doc.toJS({ maxAliasCount: 100 });
}

/** The file's text, refused when it is not a regular file or is bigger than the bound. */
function readBounded(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    // Its hooks run as root, and its mounts and devices go into containers: a file that
    // someone other than root may write is someone else's way in.
    if (!isRootless() && (st.uid !== 0 || (st.mode & 0o022) !== 0)) {
      throw new Error(
        `the file is writable by users other than root (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)}): refused, as its hooks would run as root`,
      );
    }
    if (st.size > MAX_SPEC_FILE_BYTES) throw new Error(`the file is ${st.size} bytes, more than the ${MAX_SPEC_FILE_BYTES} a spec may have`);
    const buf = Buffer.alloc(Math.min(st.size + 1, MAX_SPEC_FILE_BYTES + 1));
    let n = 0;
    for (let r: number; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
    if (n > MAX_SPEC_FILE_BYTES) throw new Error(`the file is more than the ${MAX_SPEC_FILE_BYTES} bytes a spec may have`);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** One spec file, loaded and checked; an Error whose message says what is wrong otherwise. */
export async function readSpecFile(path: string): Promise<CdiSpec> {
  const doc = await parseDocument(path, readBounded(path));
  if (doc === undefined || doc === null) throw new Error('no spec data');
  try {
    return validateSpec(doc);
  } catch (e) {
    if (e instanceof SpecFieldError) throw new Error(e.message);
    throw e;
  }
}

/** The spec files of `dir`, sorted by name; none when it does not exist. */
function specFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return [];
    throw e;
  }
  return entries
    .filter((n) => n.endsWith('.json') || n.endsWith('.yaml'))
    .sort()
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return !statSync(p).isDirectory();
      } catch {
        return true; // a dangling link: read, and recorded as that file's error
      }
    });
}

/** The registry of the spec files in `dirs` (in rising priority). */
export async function loadCdiRegistry(dirs: readonly string[]): Promise<CdiRegistry> {
  const specs: LoadedSpec[] = [];
  const errors: SpecError[] = [];
  const devices = new Map<string, RegisteredDevice>();
  const conflicts = new Set<string>();
  const cleanDirs = dirs.map((d) => resolve(d));
  for (const [priority, dir] of cleanDirs.entries()) {
    const files = specFiles(dir);
    if (files.length > MAX_SPEC_FILES) {
      errors.push({
        path: dir,
        message: `${files.length} spec files, more than the ${MAX_SPEC_FILES} read from one directory: the first ${MAX_SPEC_FILES} were read`,
      });
    }
    for (const path of files.slice(0, MAX_SPEC_FILES)) {
      let spec: CdiSpec;
      try {
        spec = await readSpecFile(path);
      } catch (e) {
        errors.push({ path, message: (e as Error).message });
        continue;
      }
      const loaded: LoadedSpec = { path, priority, spec };
      specs.push(loaded);
      for (const device of spec.devices) {
        const name = qualifiedName(spec.kind, device.name);
        const other = devices.get(name);
        if (other && other.spec.priority === priority) {
          const message = `conflicting device "${name}" (specs "${path}", "${other.spec.path}")`;
          errors.push({ path, message }, { path: other.spec.path, message });
          conflicts.add(name);
          continue;
        }
        // A later directory's device hides an earlier one's, conflicted there or not.
        conflicts.delete(name);
        devices.set(name, { name, kind: spec.kind, spec: loaded, device });
      }
    }
  }
  for (const name of conflicts) devices.delete(name);
  const sorted = new Map([...devices].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { dirs: cleanDirs, specs, devices: sorted, errors };
}
