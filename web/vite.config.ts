/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The designer is served by `lambdaflow serve` at `/` with the API under `/api`.
// In development (`npm run dev`) the API is proxied to a running server
// (LAMBDAFLOW_URL, default http://127.0.0.1:8080).
const api = process.env.LAMBDAFLOW_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: {
      '/api': { target: api, changeOrigin: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    css: false,
    // CI machines are small and may be busy: be patient rather than flaky
    testTimeout: 20_000,
  },
});
