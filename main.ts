import { App } from "cdktf";
import { ComputeStack } from "./stacks/compute-stack";

const app = new App();
new ComputeStack(app, "compute");
app.synth();
