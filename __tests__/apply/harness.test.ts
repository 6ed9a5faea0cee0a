/**
 * The moto harness's own logic, without moto: the override file it writes for the
 * known limits, the resources a missing operation blocks (from the synth's
 * references), and how it reads Terraform's and cdktf's errors.
 */
import { describe, expect, it } from "vitest";
import { MOTO_LIMITS } from "../helpers/moto-limits.js";
import { ENDPOINTS, motoOverride, parseFailures, unexplained, withDependents } from "../helpers/moto-stack.js";
import { type SynthJson, synthCompute } from "../helpers/synth.js";

const synth = synthCompute();
const limit = (id: string) => {
  const found = MOTO_LIMITS.find((l) => l.id === id);
  if (!found) throw new Error(`no limit ${id}`);
  return found;
};

describe("the override file", () => {
  it("points every endpoint at moto, with dummy credentials and a local backend", () => {
    const override = motoOverride("http://127.0.0.1:1234", synth.json, []) as {
      terraform: unknown;
      provider: { aws: { endpoints: Record<string, string>; access_key: string } };
      resource?: unknown;
    };
    expect(override.terraform).toEqual({ backend: { local: { path: "terraform.tfstate" } } });
    expect(Object.keys(override.provider.aws.endpoints).sort()).toEqual(ENDPOINTS);
    expect(new Set(Object.values(override.provider.aws.endpoints))).toEqual(new Set(["http://127.0.0.1:1234"]));
    expect(override.resource).toBeUndefined();
  });

  it("adds a dropped attribute to each resource's own ignore_changes, and sets an argument only where the stack sets it", () => {
    // GIVEN a worker service that waits for steady state and ignores desired_count, a backend that does neither
    const config = structuredClone(synth.json) as SynthJson;
    config.resource.aws_ecs_service.worker.wait_for_steady_state = true;
    // WHEN
    const override = motoOverride("http://127.0.0.1:1", config, [
      limit("ecs-health-check-grace-period"),
      limit("ecs-no-tasks"),
    ]) as { resource: Record<string, Record<string, Record<string, unknown>>> };
    // THEN
    expect(override.resource.aws_ecs_service).toEqual({
      backend: { lifecycle: { ignore_changes: ["health_check_grace_period_seconds"] } },
      worker: {
        lifecycle: { ignore_changes: ["desired_count", "health_check_grace_period_seconds"] },
        wait_for_steady_state: false,
      },
    });
  });
});

describe("resources a missing operation blocks", () => {
  it("are the failing resource and everything that refers to it, from the synth's references", () => {
    expect(withDependents(synth.json, ["aws_appautoscaling_target.worker"])).toEqual([
      "aws_appautoscaling_policy.worker_backlog",
      "aws_appautoscaling_policy.worker_scale_from_zero",
      "aws_appautoscaling_target.worker",
      "aws_cloudwatch_metric_alarm.worker_scale_from_zero",
    ]);
  });
});

describe("errors in Terraform's and cdktf's output", () => {
  const terraformText = `aws_ecs_cluster.main: Creation complete after 0s

Error: listing tags for Application Auto Scaling Target (arn:aws:application-autoscaling:us-east-2:123456789012:scalable-target/x): operation error Application Auto Scaling: ListTagsForResource, exceeded maximum number of attempts, 2, https response error StatusCode: 500

  with aws_appautoscaling_target.worker,
  on cdk.tf.json line 369, in resource.aws_appautoscaling_target.worker:
 369:       }

Error: creating ECS Service (x): operation error ECS: CreateService, https response error StatusCode: 400, InvalidParameterException: nope

  with aws_ecs_service.backend,
  on cdk.tf.json line 500, in resource.aws_ecs_service.backend:
`;
  const cdktfText =
    "compute  \u001b[31m╷\u001b[0m\n" +
    "         \u001b[31m│\u001b[0m \u001b[1m\u001b[31mError: \u001b[0m\u001b[1mlisting tags for Application Auto Scaling Target (arn): operation error Application Auto Scaling: ListTagsForResource, exceeded maximum number of attempts\u001b[0m\n" +
    "         \u001b[31m│\u001b[0m \n" +
    "         \u001b[31m│\u001b[0m   with aws_appautoscaling_target.worker (worker-autoscaling/target),\n";

  it("names the resource and the AWS call of each error", () => {
    expect(parseFailures(terraformText).map(({ address, call }) => ({ address, call }))).toEqual([
      {
        address: "aws_appautoscaling_target.worker",
        call: { service: "Application Auto Scaling", operation: "ListTagsForResource" },
      },
      { address: "aws_ecs_service.backend", call: { service: "ECS", operation: "CreateService" } },
    ]);
    expect(parseFailures(cdktfText).map(({ address, call }) => ({ address, call }))).toEqual([
      {
        address: "aws_appautoscaling_target.worker",
        call: { service: "Application Auto Scaling", operation: "ListTagsForResource" },
      },
    ]);
  });

  it("explains only a failure of the limit's own operation on the limit's own resources", () => {
    const left = unexplained(parseFailures(terraformText), synth.json, [limit("appautoscaling-tags")]);
    expect(left.map((f) => f.address)).toEqual(["aws_ecs_service.backend"]);
    expect(unexplained(parseFailures(terraformText), synth.json, []).length).toBe(2);
  });
});
