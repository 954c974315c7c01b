/**
 * Container records: what was asked (`config`) plus what is known of its process (`state`).
 * The rows are kept by store/containers.ts; the live process belongs to runc and the
 * monitor, and `reconcile` (see lifecycle) corrects a record whose process died unobserved.
 */
import type { ContainerRecords as Table, StoredContainer } from '../store/containers.ts';
import type { ContainerConfigRecord, ContainerState } from './types.ts';

export type ContainerRecord = StoredContainer<ContainerConfigRecord, ContainerState>;

/** The engine's `containers` repository, typed with this module's config and state. */
export type ContainerRecords = Table<ContainerConfigRecord, ContainerState>;
