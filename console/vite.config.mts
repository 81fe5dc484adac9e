// The console's build: React + TypeScript bundled by Vite into console/dist, served by the gateway
// at /console (gateway/console-route.ts). Everything it loads is in the bundle: no CDN, no fonts
// from elsewhere, so it works on a machine without internet access. Vite's own transform compiles
// the TSX (automatic JSX runtime, from console/tsconfig.json); no React plugin is needed to build.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps and no size report: the build stays quick on CI's shared cores.
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4000,
    assetsInlineLimit: 0,
    rollupOptions: {
      onwarn(warning, warn) {
        // Libraries' "use client" lines mean nothing in a client-only bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});
