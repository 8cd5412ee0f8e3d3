// Astro builds the portal shells; every plan's content is sealed inside them at build time
// (site/components/SealedPortal.astro). Nothing here may put plan text into the output.
import mdx from '@astrojs/mdx';
import { defineConfig, passthroughImageService } from 'astro/config';

export default defineConfig({
  srcDir: './site',
  // `twofold build` builds into a staging directory and swaps it into place (site/lib/portal-build.ts).
  outDir: process.env.TWOFOLD_ASTRO_OUT ?? process.env.TWOFOLD_DIST_DIR ?? './dist',
  ...(process.env.TWOFOLD_ASTRO_CACHE ? { cacheDir: process.env.TWOFOLD_ASTRO_CACHE } : {}),
  publicDir: './site/public',
  // Portals live at unguessable paths; there is no sitemap, RSS or search index to list them.
  trailingSlash: 'always',
  // Pages wait on small file reads while sealing: a few at a time keeps both cores busy.
  build: { format: 'directory', inlineStylesheets: 'never', assets: '_astro', concurrency: 4 },
  // Plans never reference images; the passthrough service means sharp (and its install script) is not needed.
  image: { service: passthroughImageService() },
  integrations: [mdx()],
  devToolbar: { enabled: false },
  vite: {
    build: { sourcemap: false, assetsInlineLimit: 0 },
    logLevel: 'warn',
  },
});
