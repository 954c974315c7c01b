import { BUILDKIT_RULES } from '../buildkit/index.ts';
import type { Rule } from '../types.ts';
import { addForLocal } from './add-for-local.ts';
import { aptInstallFlags } from './apt-install-flags.ts';
import { aptUpdateAlone } from './apt-update-alone.ts';
import { baseImageTag } from './base-image-tag.ts';
import { cacheBustingOrder } from './cache-busting-order.ts';
import { consecutiveRuns } from './consecutive-runs.ts';
import { copyIgnoredSource, largeContext } from './context-rules.ts';
import { curlPipeSh } from './curl-pipe-sh.ts';
import { maintainerDeprecated } from './maintainer.ts';
import { pipNoCache } from './pip-no-cache.ts';
import { archSpecificBinary, constantPlatform } from './platform.ts';
import { rootUser } from './root-user.ts';
import { secretInEnv } from './secret-in-env.ts';
import { shellFormCmd } from './shell-form-cmd.ts';
import { singleAmpersand } from './single-ampersand.ts';
import { torchSharedMemory } from './torch-shared-memory.ts';
import { cdInRun, relativeWorkdir } from './workdir-rules.ts';

/** berth's own rules, in id order. */
export const BERTH_RULES: readonly Rule[] = [
  baseImageTag,
  rootUser,
  aptUpdateAlone,
  aptInstallFlags,
  singleAmpersand,
  pipNoCache,
  cacheBustingOrder,
  consecutiveRuns,
  addForLocal,
  secretInEnv,
  relativeWorkdir,
  cdInRun,
  shellFormCmd,
  maintainerDeprecated,
  curlPipeSh,
  constantPlatform,
  archSpecificBinary,
  copyIgnoredSource,
  largeContext,
  torchSharedMemory,
];

/** Every rule: berth's, then BuildKit's check ruleset. */
export const RULES: readonly Rule[] = [...BERTH_RULES, ...BUILDKIT_RULES];
