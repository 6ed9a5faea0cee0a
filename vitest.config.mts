import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // terraform init/plan and synths take seconds each; the defaults of 5 s are too short.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
