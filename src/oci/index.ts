export * from './digest.ts';
export * from './mediatypes.ts';
export * from './schema.ts';
export * from './platform.ts';
