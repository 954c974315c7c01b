/**
 * The metadata database opened once, with one typed repository per table: the only SQL in
 * berth is in store/. Callers take the repositories they use; none of them sees the
 * database itself.
 */
import { BuildCacheRecords } from './build-cache.ts';
import { ContainerRecords, type ContainerConfigShape, type ContainerStateShape } from './containers.ts';
import { openDatabase, type Database } from './db.ts';
import { EventRecords, eventLog, setEventLog } from './events.ts';
import { FileHashRecords } from './file-hashes.ts';
import { ImageRecords } from './images.ts';
import { LeaseRecords } from './leases.ts';
import { NetworkRecords } from './networks.ts';
import { VolumeRecords } from './volumes.ts';

/** What holds the whole database: a check of it, and one write lock over many repositories' changes. */
export interface MetadataDatabase {
  /** SQLite's integrity check: empty when the file is sound, else what it found. */
  integrityProblems(): string[];
  /**
   * Runs `fn` holding the database's write lock (`BEGIN IMMEDIATE` … `COMMIT`, rolled back when
   * `fn` throws). Other processes wait to write meanwhile; this process's own statements run
   * inside the transaction, so nothing else of this process may write while `fn` awaits.
   */
  writeLocked<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

export class Metadata<Config extends ContainerConfigShape = ContainerConfigShape, State extends ContainerStateShape = ContainerStateShape>
  implements MetadataDatabase
{
  readonly containers: ContainerRecords<Config, State>;
  readonly networks: NetworkRecords;
  readonly volumes: VolumeRecords;
  readonly buildCache: BuildCacheRecords;
  readonly fileHashes: FileHashRecords;
  readonly images: ImageRecords;
  readonly leases: LeaseRecords;
  /** The event log; this process's `recordEvent` calls write to the last one opened. */
  readonly events: EventRecords;
  private readonly db: Database;

  constructor(path: string) {
    this.db = openDatabase(path);
    this.containers = new ContainerRecords(this.db);
    this.networks = new NetworkRecords(this.db);
    this.volumes = new VolumeRecords(this.db);
    this.buildCache = new BuildCacheRecords(this.db);
    this.fileHashes = new FileHashRecords(this.db);
    this.images = new ImageRecords(this.db);
    this.leases = new LeaseRecords(this.db);
    this.events = new EventRecords(this.db);
    setEventLog(this.events);
  }

  integrityProblems(): string[] {
    const result = this.db.pragma('integrity_check', { simple: true });
    return result === 'ok' ? [] : [String(result)];
  }

  async writeLocked<T>(fn: () => Promise<T>): Promise<T> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = await fn();
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    if (eventLog() === this.events) setEventLog(undefined);
    this.db.close();
  }
}
