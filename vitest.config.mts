import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["__tests__/**/*.test.ts"],
    // terraform init/plan and synths take seconds each; the defaults of 5 s are too short.
    testTimeout: 120_000,
    // Two files at a time (vitest's default on 2 cores is 1): the suites mostly wait on terraform,
    // its provider and moto in child processes, so a second worker overlaps those waits.
    maxWorkers: 2,
    hookTimeout: 120_000,
  },
});
