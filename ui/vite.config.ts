import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The console: built to dist/console, loaded by the app as console/index.html.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: {
    outDir: "../dist/console",
    emptyOutDir: true,
  },
});
