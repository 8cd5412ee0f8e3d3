/**
 * How the portal pages learn about the build they are part of. `twofold build` runs Astro in a
 * child process (Astro's own, without the CLI's TypeScript loader, which would double the
 * build's memory) and tells it, through the environment, the project's paths, the build's clock
 * and whether to report progress; the pages report each sealed portal as one line on stdout.
 * `twofold dev` runs Astro in-process and hands the paths over on `globalThis`.
 */
import { projectPaths, type ProjectPaths } from './project-paths.ts';
import type { SealedPortal } from './portal-seal-fs.ts';

export const BUILD_NOW_ENV = 'TWOFOLD_BUILD_NOW';
export const BUILD_PROGRESS_ENV = 'TWOFOLD_BUILD_PROGRESS';
/** Where the Astro child writes its output (astro.config.mjs reads it). */
export const ASTRO_OUT_ENV = 'TWOFOLD_ASTRO_OUT';
export const ASTRO_CACHE_ENV = 'TWOFOLD_ASTRO_CACHE';
const PROGRESS_PREFIX = '\u0001twofold ';

export interface DevContext {
  paths: ProjectPaths;
}

declare global {
  // eslint-disable-next-line no-var
  var __twofoldDev: DevContext | undefined;
}

/** The project paths of the running build or preview. */
export function buildPaths(): ProjectPaths {
  return globalThis.__twofoldDev?.paths ?? projectPaths(process.cwd(), process.env);
}

/** The build's clock (`twofold build --now`), else the real time. */
export function buildNow(): Date {
  const value = process.env[BUILD_NOW_ENV];
  const date = value ? new Date(value) : new Date();
  return Number.isNaN(date.getTime()) ? new Date() : date;
}

export type BuildEvent = { kind: 'sealed' | 'reused' | 'skipped'; slug: string };

export function reportBuildEvent(event: BuildEvent): void {
  if (process.env[BUILD_PROGRESS_ENV] === '1') process.stdout.write(`${PROGRESS_PREFIX}${event.kind} ${event.slug}\n`);
}

export function reportSealed(sealed: SealedPortal): void {
  reportBuildEvent({ kind: sealed.reused ? 'reused' : 'sealed', slug: sealed.slug });
}

/** A progress line from the Astro child, or undefined for any other output. */
export function parseBuildEvent(line: string): BuildEvent | undefined {
  const at = line.indexOf(PROGRESS_PREFIX);
  if (at === -1) return undefined;
  const [kind, slug] = line.slice(at + PROGRESS_PREFIX.length).trim().split(' ');
  return (kind === 'sealed' || kind === 'reused' || kind === 'skipped') && slug ? { kind, slug } : undefined;
}
