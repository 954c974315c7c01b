// Writes docs/lint-rules.md from the rules themselves (npm run docs:lint); a test keeps it current.
import { writeFileSync } from 'node:fs';
import { renderLintDocs } from '../src/lint/docs.ts';

writeFileSync(new URL('../docs/lint-rules.md', import.meta.url), renderLintDocs());
