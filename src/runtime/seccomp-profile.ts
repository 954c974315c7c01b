/** Docker's seccomp profile format: its schema and the types both the default profile and the reader use. */
import { z } from 'zod';

/** Docker's profile format. Built on first use: zod schemas cost milliseconds to build, and
 * only `seccomp=FILE` needs one, not the start of every container. */
export function makeProfileSchema() {
  const argSchema = z.object({ index: z.number().int().min(0).max(5), value: z.number(), valueTwo: z.number().optional(), op: z.string() });
  const filterSchema = z.object({ caps: z.array(z.string()).optional(), arches: z.array(z.string()).optional(), minKernel: z.string().optional() });
  const ruleSchema = z.object({
    names: z.array(z.string()).optional(),
    name: z.string().optional(),
    action: z.string(),
    errnoRet: z.number().int().optional(),
    args: z.array(argSchema).nullish(),
    includes: filterSchema.optional(),
    excludes: filterSchema.optional(),
    comment: z.string().optional(),
  });
  return z.object({
    defaultAction: z.string(),
    defaultErrnoRet: z.number().int().optional(),
    architectures: z.array(z.string()).nullish(),
    archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullish() })).nullish(),
    syscalls: z.array(ruleSchema).nullish(),
  });
}

export type DockerSeccompProfile = z.infer<ReturnType<typeof makeProfileSchema>>;
export type DockerSyscallRule = NonNullable<DockerSeccompProfile['syscalls']>[number];
