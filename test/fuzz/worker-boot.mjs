// Node 20 does not carry `--import tsx` loader hooks into worker threads: register them here.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
