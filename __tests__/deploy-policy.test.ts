/**
 * The CI deploy role's policy (`npm run deploy-policy`, docs/ci-deploy-policy.json):
 * generated from the types of the synth, every type covered, nothing granted for a
 * type the stack does not have, fit for a managed policy, and the committed copy current.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LEGACY_BACKEND } from "../stacks/compute-stack.js";
import {
  defaultNames,
  deployPolicy,
  MANAGED_POLICY_MAX_CHARS,
  POLICY_FILE,
  type PolicyStatement,
  renderPolicy,
  stackTypes,
} from "../tools/deploy-policy.js";
import { type Synths, synthBoth } from "../tools/docs-tables.js";
import { TYPE_PERMISSIONS } from "../tools/lib/deploy/permissions.js";
import { PROJECT_ROOT } from "../tools/lib/project.js";
import { runTool } from "./helpers/cli.js";

let synths: Synths;
let statements: PolicyStatement[];
beforeAll(() => {
  synths = synthBoth();
  statements = deployPolicy(synths, defaultNames()).Statement;
});

describe("the deploy policy", () => {
  it("has permissions for exactly the types of the synth, in both modes", () => {
    const types = [...new Set([...stackTypes(synths.operations), ...stackTypes(synths.legacyParity)])].sort();
    expect(Object.keys(TYPE_PERMISSIONS).sort()).toEqual(types);
  });

  it("refuses a type it has no permissions for, naming it and the fix", () => {
    const withBucket: Synths = {
      ...synths,
      operations: { ...synths.operations, resource: { ...synths.operations.resource, aws_s3_bucket: { logs: {} } } },
    };
    expect(() => deployPolicy(withBucket, defaultNames())).toThrow(
      "deploy-policy: no permissions for aws_s3_bucket: add an entry to TYPE_PERMISSIONS in tools/lib/deploy/permissions.ts",
    );
  });

  it("grants each action on resources of its own service, names statements uniquely, and fits a managed policy", () => {
    for (const { Sid, Action, Resource } of statements) {
      for (const action of Action) expect(action, Sid).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z]+\*?$/);
      for (const resource of Resource.filter((r) => r !== "*")) {
        // arn:partition:service:region:account:resource
        expect(resource, Sid).toMatch(/^arn:aws:[a-z0-9-]+:[a-z0-9-]*\*?:(\*|[0-9]{12})?:.+$/);
        const service = resource.split(":")[2];
        for (const action of Action) expect(action.split(":")[0], `${Sid}: ${action} on ${resource}`).toBe(service);
      }
    }
    const sids = statements.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
    expect(JSON.stringify({ Version: "2012-10-17", Statement: statements }).length).toBeLessThanOrEqual(
      MANAGED_POLICY_MAX_CHARS,
    );
  });

  it("lets the role read and write the state object and take the lock of the legacy backend", () => {
    const byAction = (action: string) => statements.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource);
    expect(byAction("s3:PutObject")).toEqual([`arn:aws:s3:::${LEGACY_BACKEND.bucket}/${LEGACY_BACKEND.key}`]);
    expect(byAction("dynamodb:PutItem")).toEqual([
      `arn:aws:dynamodb:${LEGACY_BACKEND.region}:*:table/${LEGACY_BACKEND.dynamodbTable}`,
    ]);
  });

  it("passes only the project's roles, and only to ECS tasks", () => {
    const passRole = statements.filter((s) => s.Action.includes("iam:PassRole"));
    expect(passRole).toEqual([
      expect.objectContaining({
        Resource: [`arn:aws:iam::*:role/${defaultNames().project}-*`],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      }),
    ]);
  });
});

describe("the committed policy", () => {
  it("is the current one (npm run deploy-policy)", async () => {
    expect(readFileSync(join(PROJECT_ROOT, POLICY_FILE), "utf8")).toBe(renderPolicy(synths));
    const check = await runTool("deploy-policy", ["--check"]);
    expect(check.stderr).toBe("");
    expect(check.code).toBe(0);
  });

  it("fails --check when stale, naming the file, and npm run deploy-policy makes it current", async () => {
    // GIVEN a copy with a statement edited by hand
    const root = mkdtempSync(join(tmpdir(), "cricksy-deploy-policy-"));
    mkdirSync(join(root, "docs"));
    copyFileSync(join(PROJECT_ROOT, POLICY_FILE), join(root, POLICY_FILE));
    const committed = readFileSync(join(root, POLICY_FILE), "utf8");
    writeFileSync(join(root, POLICY_FILE), committed.replace('"kms:CreateKey"', '"kms:*"'));
    // WHEN checked, THEN one line names the stale file and the fix
    const check = await runTool("deploy-policy", ["--check", "--root", root]);
    expect(check.code).toBe(1);
    expect(check.stderr).toBe(
      "deploy-policy: docs/ci-deploy-policy.json not current: run npm run deploy-policy and commit\n",
    );
    // WHEN written, THEN it is the committed one again
    expect((await runTool("deploy-policy", ["--root", root])).code).toBe(0);
    expect(readFileSync(join(root, POLICY_FILE), "utf8")).toBe(committed);
  });
});
