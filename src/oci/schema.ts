/**
 * Zod schemas for the OCI (and Docker schema2) JSON documents. Outside data — from a
 * registry, an archive or the API — is validated once here, at the edge, and trusted after.
 * Unknown fields are kept (passthrough) so a round trip does not change a digest we did not mean to.
 */
import { z } from 'zod';
import type { Digest } from './digest.ts';

const digestSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'malformed digest')
  .transform((s) => s as Digest);

export const platformSchema = z
  .object({
    architecture: z.string(),
    os: z.string(),
    'os.version': z.string().optional(),
    'os.features': z.array(z.string()).optional(),
    variant: z.string().optional(),
  })
  .passthrough();
export type Platform = z.infer<typeof platformSchema>;

export const descriptorSchema = z
  .object({
    mediaType: z.string(),
    digest: digestSchema,
    size: z.number().int().nonnegative(),
    urls: z.array(z.string()).optional(),
    annotations: z.record(z.string()).optional(),
    platform: platformSchema.optional(),
  })
  .passthrough();
export type Descriptor = z.infer<typeof descriptorSchema>;

export const manifestSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    config: descriptorSchema,
    layers: z.array(descriptorSchema),
    annotations: z.record(z.string()).optional(),
  })
  .passthrough();
export type Manifest = z.infer<typeof manifestSchema>;

export const indexSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    manifests: z.array(descriptorSchema),
    annotations: z.record(z.string()).optional(),
  })
  .passthrough();
export type ImageIndex = z.infer<typeof indexSchema>;

const nullableRecord = z.record(z.object({}).passthrough()).nullish();
const nullableStrings = z.array(z.string()).nullish();

export const healthcheckSchema = z
  .object({
    Test: nullableStrings,
    Interval: z.number().optional(),
    Timeout: z.number().optional(),
    StartPeriod: z.number().optional(),
    StartInterval: z.number().optional(),
    Retries: z.number().optional(),
  })
  .passthrough();
export type Healthcheck = z.infer<typeof healthcheckSchema>;

/** The runtime part of an image config (OCI `config`, Docker `container_config` shape). */
export const containerConfigSchema = z
  .object({
    User: z.string().optional(),
    ExposedPorts: nullableRecord,
    Env: nullableStrings,
    Entrypoint: nullableStrings,
    Cmd: nullableStrings,
    Volumes: nullableRecord,
    WorkingDir: z.string().optional(),
    Labels: z.record(z.string()).nullish(),
    StopSignal: z.string().optional(),
    ArgsEscaped: z.boolean().optional(),
    Healthcheck: healthcheckSchema.optional(),
    OnBuild: nullableStrings,
    Shell: nullableStrings,
  })
  .passthrough();
export type ContainerConfig = z.infer<typeof containerConfigSchema>;

export const historySchema = z
  .object({
    created: z.string().optional(),
    created_by: z.string().optional(),
    author: z.string().optional(),
    comment: z.string().optional(),
    empty_layer: z.boolean().optional(),
  })
  .passthrough();
export type History = z.infer<typeof historySchema>;

export const imageConfigSchema = z
  .object({
    created: z.string().optional(),
    author: z.string().optional(),
    architecture: z.string(),
    os: z.string(),
    variant: z.string().optional(),
    'os.version': z.string().optional(),
    config: containerConfigSchema.optional(),
    rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(digestSchema) }).passthrough(),
    history: z.array(historySchema).optional(),
  })
  .passthrough();
export type ImageConfig = z.infer<typeof imageConfigSchema>;
