import { App } from "cdktf";
import { ComputeStack } from "./stacks/compute-stack.js";

const app = new App();
new ComputeStack(app, "compute", {
  // CRICKSY_LEGACY_PARITY=1: the exact equivalent of the hand-written module, for a
  // switch-over that plans as "No changes" (docs/migration.md, step 1).
  workerOperations: process.env.CRICKSY_LEGACY_PARITY !== "1",
});
app.synth();
