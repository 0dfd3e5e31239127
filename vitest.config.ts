import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["ui/src/**/*.test.ts", "kiosk/src/**/*.test.ts", "ts/**/*.test.ts"],
    environment: "jsdom",
  },
});
