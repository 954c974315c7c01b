import type { Rule } from '../types.ts';

export const baseImageTag: Rule = {
  id: 'BL001',
  name: 'base-image-unpinned',
  severity: 'warning',
  summary: 'A base image without a tag, or with `latest`',
  why: '`latest` moves: the same Dockerfile builds a different image next month, and a CUDA or Python upgrade breaks training code without a change on your side.',
  fix: 'Pin a version tag (e.g. `python:3.11-slim`), and for production pin the digest too (`python:3.11-slim@sha256:…`).',
  check({ dockerfile }) {
    const stageNames = new Set(dockerfile.stages.map((s) => s.name).filter(Boolean));
    return dockerfile.stages.flatMap((s) => {
      const image = s.from.image;
      if (image === 'scratch' || stageNames.has(image.toLowerCase()) || image.includes('$') || image.includes('@')) return [];
      const lastSlash = image.lastIndexOf('/');
      const tag = image.lastIndexOf(':') > lastSlash ? image.slice(image.lastIndexOf(':') + 1) : undefined;
      if (tag === undefined) return [{ inst: s.from, message: `base image "${image}" has no tag, so it means "latest"` }];
      if (tag === 'latest') return [{ inst: s.from, message: `base image "${image}" uses the "latest" tag` }];
      return [];
    });
  },
};
