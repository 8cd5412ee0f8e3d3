/**
 * `twofold build` runs Astro in-process and hands it its paths, clock and progress callbacks
 * through `globalThis.__twofoldBuild`: Astro bundles the page code separately from the CLI, so a
 * module variable would not be shared, but the process's global object is.
 */
import { projectPaths, type ProjectPaths } from './project-paths.ts';
import type { SealedPortal } from './portal-seal-fs.ts';

export interface BuildContext {
  paths: ProjectPaths;
  now: Date;
  onSealed?: (sealed: SealedPortal) => void;
  onSkipped?: (slug: string, reason: string) => void;
}

declare global {
  // eslint-disable-next-line no-var
  var __twofoldBuild: BuildContext | undefined;
}

/** The project paths of the running build (or of the current directory under plain Astro). */
export function buildPaths(): ProjectPaths {
  return globalThis.__twofoldBuild?.paths ?? projectPaths(process.cwd(), process.env);
}
