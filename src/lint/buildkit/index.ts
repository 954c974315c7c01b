/** BuildKit's check ruleset (`docker build --check`), as berth runs it. */
import type { Rule } from '../types.ts';
import { consistentInstructionCasing, fromAsCasing, stageNameCasing } from './casing.ts';
import {
  copyIgnoredFile,
  exposeInvalidFormat,
  exposeProtoCasing,
  jsonArgsRecommended,
  legacyKeyValueFormat,
  maintainerDeprecatedBuildkit,
  multipleInstructionsDisallowed,
  noEmptyContinuation,
  secretsUsedInArgOrEnv,
  workdirRelativePath,
} from './instructions.ts';
import {
  duplicateStageName,
  fromPlatformFlagConstDisallowed,
  invalidBaseImagePlatform,
  invalidDefaultArgInFrom,
  redundantTargetPlatform,
  reservedStageName,
  undefinedArgInFrom,
} from './stages.ts';
import { undefinedVar } from './undefined-var.ts';

export const BUILDKIT_RULES: readonly Rule[] = [
  stageNameCasing,
  fromAsCasing,
  noEmptyContinuation,
  consistentInstructionCasing,
  duplicateStageName,
  reservedStageName,
  jsonArgsRecommended,
  maintainerDeprecatedBuildkit,
  undefinedArgInFrom,
  workdirRelativePath,
  undefinedVar,
  multipleInstructionsDisallowed,
  legacyKeyValueFormat,
  redundantTargetPlatform,
  secretsUsedInArgOrEnv,
  invalidDefaultArgInFrom,
  fromPlatformFlagConstDisallowed,
  copyIgnoredFile,
  exposeProtoCasing,
  exposeInvalidFormat,
  invalidBaseImagePlatform,
];
