/**
 * docker's filters, one module for both front ends: `--filter` flags and the API's `filters`
 * JSON become the same `FilterArgs`, and each listing's matcher checks and applies them.
 */
export * from './args.ts';
export * from './containers.ts';
export * from './images.ts';
export * from './objects.ts';
export * from './time.ts';
