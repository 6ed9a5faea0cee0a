/**
 * The default stack applied for real, on moto's server as the AWS API: deployed
 * with `cdktf deploy` as the README tells users, then Terraform on the
 * synthesized folder. After the apply nothing plans as a change (no perpetual
 * diff); state list/show/output and state:check work on what was applied; the
 * worker, started with the applied task definition's environment, turns jobs
 * into results; a new worker image is a new task definition revision and nothing
 * else; `terraform destroy` leaves nothing the stack created (asked of the API).
 *
 * What moto cannot do is named in helpers/moto-limits.ts (and the docs), probed
 * first, and worked around only while it is there; the rest is applied and checked.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { GetObjectCommand, HeadBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DescribeSecretCommand } from "@aws-sdk/client-secrets-manager";
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../tools/lib/project.js";
import { WORKER_CONTRACT } from "../../worker-src/src/contract.js";
import { containerDefinitions, startWorker, taskEnvironment } from "../helpers/applied-worker.js";
import { type AwsClients, awsClients } from "../helpers/aws-clients.js";
import type { StateFile } from "../helpers/fixtures.js";
import { liveProjectObjects, presence, typesWithoutLeftoverCheck } from "../helpers/leftovers.js";
import { type Moto, motoVersion, startMoto } from "../helpers/moto.js";
import { MOTO_LIMITS, type MotoLimit, probeLimits } from "../helpers/moto-limits.js";
import {
  appliedAddresses,
  describeFailure,
  failingOnMoto,
  MotoStackDir,
  managedAddresses,
  parseFailures,
  typesWithoutEndpoint,
  unexplained,
} from "../helpers/moto-stack.js";
import { createPrerequisites, PROJECT, type Prerequisites, REGION, WORKER_IMAGE } from "../helpers/prerequisites.js";
import { note, step } from "../helpers/steps.js";
import { type Synthesized, synthCompute } from "../helpers/synth.js";
import { makeVideo } from "../helpers/test-videos.js";

/** Generous: each step is a terraform run or a scan on a shared 2-core machine. */
const LONG = 600_000;

const TEST = "apply";
let moto: Moto;
let aws: AwsClients;
let limits: MotoLimit[];
let goneLimits: MotoLimit[];
let prereqs: Prerequisites;
let synth: Synthesized;
let outdir: string;
let stack: MotoStackDir;
let work: string | undefined;

function exec(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    execFile(command, args, { ...options, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

beforeAll(async () => {
  moto = await step(TEST, "start moto", startMoto);
  aws = awsClients(moto.endpoint, REGION);
  [{ observed: limits, gone: goneLimits }, prereqs] = await step(TEST, "probe limits, create prerequisites", () =>
    Promise.all([probeLimits(aws), createPrerequisites(aws)]),
  );
  for (const limit of limits)
    note(TEST, "moto limit", { moto: motoVersion(), id: limit.id, operation: `${limit.service} ${limit.operation}` });
  synth = synthCompute();
  work = mkdtempSync(join(tmpdir(), "cricksy-apply-"));
  outdir = join(work, "cdktf.out");
  const dir = join(outdir, "stacks", "compute");
  mkdirSync(dir, { recursive: true });
  const varFile = join(work, "moto.tfvars.json");
  writeFileSync(varFile, JSON.stringify(prereqs.tfvars, null, 2));
  stack = new MotoStackDir({ dir, endpoint: moto.endpoint, config: synth.json, limits, varFile });
  await stack.writeOverride();
}, 180_000);

afterAll(async () => {
  await moto?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the harness", { timeout: LONG }, () => {
  it("finds in moto (pinned in tools/python) every limit the docs list; none is worked around that moto does not have", () => {
    expect(
      goneLimits.map((l) => `${l.id}: moto ${motoVersion()} now handles ${l.service} ${l.operation}; remove the limit`),
    ).toEqual([]);
  });

  it("lists every known moto limit in docs/testing-on-moto.md, by id and operation", () => {
    const doc = readFileSync(join(PROJECT_ROOT, "docs", "testing-on-moto.md"), "utf8");
    for (const limit of MOTO_LIMITS) {
      expect(doc, limit.id).toContain(`\`${limit.id}\`: ${limit.service} \`${limit.operation}\``);
    }
  });

  it("knows the service endpoint and a leftover check of every resource type in the synth", () => {
    expect(typesWithoutEndpoint(synth.json)).toEqual([]);
    expect(typesWithoutLeftoverCheck(Object.keys(synth.json.resource))).toEqual([]);
  });
});

describe("the default stack on moto", { timeout: LONG }, () => {
  let deployOutput: string;
  let deployCode: number;

  it("is deployed by `cdktf deploy` as the README says; only the named moto limits fail", async () => {
    const result = await step(TEST, "cdktf deploy", () =>
      exec(
        "npm",
        [
          ...["run", "-s", "cdktf", "--", "deploy", "compute", "--output", outdir],
          ...["--var-file", stack.varFile, "--auto-approve", "--skip-provider-lock"],
        ],
        { cwd: PROJECT_ROOT, env: stack.env({ CI: "1", NO_COLOR: "1", FORCE_COLOR: "0" }) },
      ),
    );
    deployOutput = result.output;
    deployCode = result.code;
    // cdktf synthesized what the in-process synth did, so the override fits it
    expect(JSON.parse(readFileSync(join(stack.dir, "cdk.tf.json"), "utf8"))).toEqual(synth.json);
    const failures = parseFailures(deployOutput);
    expect(
      unexplained(failures, synth.json, limits).map((f) => `moto ${motoVersion()}: ${describeFailure(f)}`),
      `${deployOutput.slice(-6000)}\nmoto answered "not implemented" to: ${moto.notImplemented().join(", ") || "nothing"}`,
    ).toEqual([]);
    const expected = failingOnMoto(synth.json, limits);
    expect(failures.map((f) => f.address).sort()).toEqual(expected.map((e) => e.address).sort());
    for (const f of failures)
      note(TEST, "failed on moto's limit", { moto: motoVersion(), address: f.address, call: f.call });
    expect(deployCode).toBe(expected.length > 0 ? 1 : 0);
  });

  it("applied every resource that no moto limit blocks", async () => {
    const state = await stack.state();
    const blocked = stack.blocked();
    if (blocked.length) note(TEST, "not applied on moto (named limit)", { addresses: blocked });
    expect(appliedAddresses(state)).toEqual(managedAddresses(synth.json).filter((a) => !blocked.includes(a)));
  });

  it("plans No changes right after the apply (no perpetual diff)", async () => {
    const plan = await step(TEST, "plan after apply", () => stack.plan());
    expect(plan.changes).toEqual({});
    expect(plan.code).toBe(0);
    expect(plan.summary).toEqual({ add: 0, change: 0, import: 0, remove: 0, operation: "plan" });
  });

  it("answers terraform state list, state show and output", async () => {
    const list = (await stack.runOk("state", "list")).stdout.trim().split("\n").sort();
    const state = await stack.state();
    expect(list).toEqual(
      state.resources.map((r) => (r.mode === "data" ? `data.${r.type}.${r.name}` : `${r.type}.${r.name}`)).sort(),
    );
    const shown = (await stack.runOk("state", "show", "-no-color", "aws_ecs_service.worker")).stdout;
    expect(shown).toContain('resource "aws_ecs_service" "worker"');
    expect(shown).toMatch(/name\s+= "cricksy-ai-worker-service"/);
    const outputs = JSON.parse((await stack.runOk("output", "-json")).stdout) as Record<string, { value: unknown }>;
    // Outputs of what was applied have the applied values
    expect(outputs.cluster_name?.value).toBe("cricksy-ai-cluster");
    expect(outputs.worker_service_name?.value).toBe("cricksy-ai-worker-service");
    const service = state.resources.find((r) => r.type === "aws_ecs_service" && r.name === "worker");
    expect(outputs.worker_service_arn?.value).toBe(service?.instances[0]?.attributes?.id);
  });

  it("passes npm run state:check on the pulled state", async () => {
    const pulled = join(stack.dir, "..", "..", "..", "pulled.tfstate");
    writeFileSync(pulled, (await stack.runOk("state", "pull")).stdout);
    const result = await exec("npm", ["run", "-s", "state:check", "--", "--state", pulled, "--synth", outdir], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Covered: (\d+) of \1 managed resources/);
  });
});

describe("the worker on the applied stack", { timeout: LONG }, () => {
  it("runs jobs with the environment of the applied task definition: jobs in, results out", async () => {
    const built = await step(TEST, "build worker-src", () =>
      exec("npm", ["--prefix", "worker-src", "run", "build"], { cwd: PROJECT_ROOT, env: process.env }),
    );
    expect(built.code, built.output).toBe(0);
    const state = await stack.state();
    const [container] = containerDefinitions(state, "aws_ecs_task_definition.worker");
    const task = await taskEnvironment(container, aws);
    // The contract: the stack gives the queue, bucket and region the prerequisites are
    for (const name of [WORKER_CONTRACT.env.queueUrl, WORKER_CONTRACT.env.bucket, WORKER_CONTRACT.env.region]) {
      expect(task.env[name], name).toBeTruthy();
    }
    expect(task.env[WORKER_CONTRACT.env.bucket]).toBe(prereqs.tfvars.videos_bucket_name);
    expect(new URL(task.env[WORKER_CONTRACT.env.queueUrl]).pathname).toBe(new URL(prereqs.queueUrl).pathname);

    const jobs = [
      { jobId: "11111111-1111-4111-8111-111111111111", spec: { seconds: 2, width: 320, height: 240, fps: 25 } },
      { jobId: "22222222-2222-4222-8222-222222222222", spec: { seconds: 3, width: 640, height: 360, fps: 30 } },
    ];
    await Promise.all(
      jobs.map((job) =>
        aws.s3.send(
          new PutObjectCommand({
            Bucket: task.env[WORKER_CONTRACT.env.bucket],
            Key: `uploads/${job.jobId}.mp4`,
            Body: makeVideo(job.spec),
          }),
        ),
      ),
    );
    const worker = startWorker(task, moto.endpoint, { WORKER_WAIT_TIME_S: "1" });
    try {
      for (const job of jobs) {
        await aws.sqs.send(
          new SendMessageCommand({
            QueueUrl: prereqs.queueUrl,
            MessageBody: JSON.stringify({ jobId: job.jobId, videoKey: `uploads/${job.jobId}.mp4` }),
          }),
        );
      }
      const results = await step(TEST, "worker: two jobs to results", () =>
        Promise.all(
          jobs.map((job) =>
            waitForObject(task.env[WORKER_CONTRACT.env.bucket], `analysis/${job.jobId}/result.json`, worker),
          ),
        ),
      );
      for (const [i, job] of jobs.entries()) {
        const result = JSON.parse(results[i]);
        expect(result).toMatchObject({
          jobId: job.jobId,
          videoKey: `uploads/${job.jobId}.mp4`,
          status: "succeeded",
          video: { width: job.spec.width, height: job.spec.height },
        });
        expect(result.video.durationSeconds).toBeCloseTo(job.spec.seconds, 0);
      }
      // settled: the worker deleted both messages
      await expect
        .poll(
          async () => {
            const a = (
              await aws.sqs.send(
                new GetQueueAttributesCommand({
                  QueueUrl: prereqs.queueUrl,
                  AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
                }),
              )
            ).Attributes;
            return `${a?.ApproximateNumberOfMessages}/${a?.ApproximateNumberOfMessagesNotVisible}`;
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe("0/0");
    } finally {
      const code = await worker.stop();
      expect(code, worker.other.join("")).toBe(0);
    }
    expect(worker.other.join("")).toBe("");
    expect(worker.lines.some((l) => l.msg === "worker started")).toBe(true);
  });
});

async function waitForObject(bucket: string, key: string, worker: ReturnType<typeof startWorker>): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (worker.child.exitCode !== null) {
      throw new Error(
        `the worker exited (${worker.child.exitCode}):\n${worker.lines.map((l) => JSON.stringify(l)).join("\n")}\n${worker.other.join("")}`,
      );
    }
    try {
      const out = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await out.Body?.transformToString()) ?? "";
    } catch (error) {
      if ((error as { name?: string }).name !== "NoSuchKey") throw error;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(
    `no s3://${bucket}/${key} after 120 s; worker log:\n${worker.lines.map((l) => JSON.stringify(l)).join("\n")}`,
  );
}

describe("a new worker image", { timeout: LONG }, () => {
  const NEW_IMAGE = WORKER_IMAGE.replace(/:[^:]+$/, ":2025-12-24.1");

  it("plans a new task definition revision, the service pointed at it, and nothing else; applies it", async () => {
    const before = await stack.state();
    const oldArn = before.resources.find((r) => r.type === "aws_ecs_task_definition" && r.name === "worker")
      ?.instances[0]?.attributes?.arn as string;
    const plan = await step(TEST, "plan new image", () => stack.plan({ vars: { worker_image: NEW_IMAGE } }));
    expect(plan.changes).toEqual({
      replace: ["aws_ecs_task_definition.worker"],
      update: ["aws_ecs_service.worker"],
    });
    const applied = await step(TEST, "apply new image", () => stack.applyPlan());
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);

    const after = await stack.state();
    const newArn = after.resources.find((r) => r.type === "aws_ecs_task_definition" && r.name === "worker")
      ?.instances[0]?.attributes?.arn as string;
    const revision = (arn: string) => Number(arn.split(":").at(-1));
    expect(newArn.replace(/:\d+$/, "")).toBe(oldArn.replace(/:\d+$/, ""));
    expect(revision(newArn)).toBe(revision(oldArn) + 1);
    const service = await aws.ecs.send(
      new DescribeServicesCommand({ cluster: "cricksy-ai-cluster", services: ["cricksy-ai-worker-service"] }),
    );
    expect(service.services?.[0].taskDefinition).toBe(newArn);
    const [oldTd, newTd] = await Promise.all(
      [oldArn, newArn].map((arn) => aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))),
    );
    expect(newTd.taskDefinition?.containerDefinitions?.[0].image).toBe(NEW_IMAGE);
    // skip_destroy: the previous revision stays registered, for a rollback
    expect(oldTd.taskDefinition?.status).toBe("ACTIVE");
    seenTaskDefinitions.push(oldArn, newArn);
  });
});

const seenTaskDefinitions: string[] = [];

describe("terraform destroy", { timeout: LONG }, () => {
  it("leaves nothing the stack created (asked of the API per resource type), and the prerequisites untouched", async () => {
    const before: StateFile = await stack.state();
    const result = await step(TEST, "destroy", () =>
      stack.run(
        "destroy",
        "-no-color",
        "-input=false",
        "-auto-approve",
        // A refresh would read the resources that a moto limit left tainted (their read is
        // what moto lacks); the plan before this proved the rest of the state current.
        ...(stack.blocked().length > 0 ? ["-refresh=false"] : []),
        `-var-file=${stack.varFile}`,
        "-var",
        `worker_image=${WORKER_IMAGE.replace(/:[^:]+$/, ":2025-12-24.1")}`,
      ),
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect((await stack.state()).resources.filter((r) => r.mode === "managed")).toEqual([]);

    // Resources with skip_destroy are kept on purpose (task definition revisions, for rollbacks)
    const keptByDesign = (type: string, name: string) =>
      (synth.json.resource[type]?.[name] as { skip_destroy?: boolean } | undefined)?.skip_destroy === true;
    const leftovers: string[] = [];
    const kept: string[] = [];
    await step(TEST, "leftover checks", () =>
      Promise.all(
        before.resources
          .filter((r) => r.mode === "managed")
          .flatMap((r) => r.instances.map((i) => ({ r, attributes: i.attributes ?? {} })))
          .map(async ({ r, attributes }) => {
            const found = await presence(aws, r.type, attributes);
            const address = `${r.type}.${r.name}`;
            if (keptByDesign(r.type, r.name)) {
              if (found !== "present") leftovers.push(`${address}: skip_destroy, yet deregistered`);
              else kept.push(address);
            } else if (found === "present") leftovers.push(address);
          }),
      ),
    );
    expect(leftovers).toEqual([]);
    expect(kept).toEqual(["aws_ecs_task_definition.worker"]);
    // every revision the test made is still registered (skip_destroy), the backend's is gone
    for (const arn of seenTaskDefinitions) {
      expect(await presence(aws, "aws_ecs_task_definition", { arn }), arn).toBe("present");
    }
    // Listed per service, not from the state: only the kept worker revisions are left
    const live = await liveProjectObjects(aws, {
      prefix: PROJECT,
      vpcId: prereqs.vpcId,
      keepSecurityGroups: [prereqs.albSecurityGroupId],
    });
    expect(live).toEqual(seenTaskDefinitions.map((arn) => `ECS task definition ${arn}`).sort());

    // The outside resources the stack only refers to are still there
    await aws.s3.send(new HeadBucketCommand({ Bucket: prereqs.tfvars.videos_bucket_name as string }));
    await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: prereqs.queueUrl, AttributeNames: ["QueueArn"] }));
    await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: prereqs.dlqUrl, AttributeNames: ["QueueArn"] }));
    await aws.secrets.send(new DescribeSecretCommand({ SecretId: prereqs.secretArn }));
    expect(await presence(aws, "aws_security_group", { id: prereqs.albSecurityGroupId })).toBe("present");
  });
});
