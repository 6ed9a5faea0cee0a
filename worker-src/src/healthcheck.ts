/**
 * Container health check: `node dist/healthcheck.js`. Exit 0 when the consumer
 * loop touched its liveness file within WORKER_HEALTH_MAX_AGE_S (default 90:
 * a 20 s long poll plus slow network), 1 otherwise.
 */
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { livenessAgeS } from "./health.js";

// The same default as the worker's (config.ts): the health file in the scratch directory.
const file = process.env.WORKER_HEALTH_FILE || join(process.env.WORKER_SCRATCH_DIR || tmpdir(), "worker-health");
const maxAgeS = Number(process.env.WORKER_HEALTH_MAX_AGE_S || 90);
let content: string | undefined;
try {
  content = readFileSync(file, "utf8");
} catch {
  content = undefined;
}
const age = livenessAgeS(content, Date.now());
if (age === undefined) {
  console.log(`unhealthy: no liveness record in ${file}`);
  process.exit(1);
}
if (age > maxAgeS) {
  console.log(`unhealthy: the consumer loop has been stalled for ${Math.round(age)} s (limit ${maxAgeS} s)`);
  process.exit(1);
}
console.log(`healthy: consumer loop alive ${Math.round(age)} s ago`);
