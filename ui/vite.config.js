import { defineConfig } from 'vite'
import preact from '@preact/preset-vite'

// The build is committed (ui/dist) and embedded by ui/embed.go; CI
// rebuilds it and fails on any difference, so the output must depend only
// on the sources and the locked dependencies.
export default defineConfig({
  base: '/_/',
  plugins: [preact({ devToolsInProd: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8090' },
  },
})
