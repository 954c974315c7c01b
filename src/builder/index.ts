export { build, type BuildOptions, type BuildResult } from './builder.ts';
export { BuildContext } from './context.ts';
export { StepExitError } from './run-step.ts';
