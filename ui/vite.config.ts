/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Output for the Tauri web view under a strict CSP (no inline scripts or styles):
// - no module-preload polyfill (it would be an inline script in older Vite versions),
// - no assets inlined as data: URLs other than images.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    // Component tests render the real Anmeldung form; on a loaded 2-core CI machine
    // that can take longer than vitest's 5 s default.
    testTimeout: 30_000,
  },
});
