/**
 * What moto (the pinned version) cannot do that the stack needs: each limit names
 * the AWS operation, what it does to an apply, and a probe that asks moto through
 * the AWS SDK whether the limit is still there. The apply tests run every probe
 * first: a limit is worked around only while its probe sees it, and a limit that
 * moto no longer has fails the tests (remove it here and in docs/testing-on-moto.md).
 * An error or a diff that no limit explains fails the tests as a finding.
 */
import { ListTagsForResourceCommand } from "@aws-sdk/client-application-auto-scaling";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  RegisterTaskDefinitionCommand,
  type Service,
} from "@aws-sdk/client-ecs";
import type { AwsClients } from "./aws-clients.js";

export interface MotoLimit {
  /** Stable id, as the docs list it. */
  id: string;
  /** AWS service and operation, as the provider's error names them ("operation error <service>: <operation>"). */
  service: string;
  operation: string;
  /** Terraform resource types that meet it. */
  resourceTypes: string[];
  /**
   * `operation-missing`: moto answers the operation with HTTP 500 "not implemented"; every
   * resource of these types fails to apply (the create itself may have happened), and what
   * refers to it cannot be applied. `attribute-dropped`: moto accepts the attribute but does
   * not keep it, so the provider reads back a default and plans an update for ever; the tests
   * add the attribute to `lifecycle.ignore_changes` in their override file. `argument-set`:
   * an argument that only works against AWS's behaviour (waiting for something moto never
   * does); the override sets it to `value` on the resources whose configuration sets it.
   */
  effect:
    | { kind: "operation-missing" }
    | { kind: "attribute-dropped"; attribute: string }
    | { kind: "argument-set"; attribute: string; value: unknown };
  /** What happens, for the docs and the failure messages. */
  description: string;
  /** True while moto still shows the limit. Leaves nothing behind. */
  probe(aws: AwsClients): Promise<boolean>;
}

/** An HTTP 500 (moto's "The <op> action has not been implemented") rather than an AWS error answer. */
function notImplemented(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 500;
}

/** An ECS service with the given settings (desired count 0 unless set), described back, then deleted. */
async function describedBack(aws: AwsClients, settings: Record<string, unknown>): Promise<Service> {
  const name = `moto-probe-${Math.random().toString(36).slice(2, 10)}`;
  await aws.ecs.send(new CreateClusterCommand({ clusterName: name }));
  const td = await aws.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: name,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "256",
      memory: "512",
      containerDefinitions: [{ name: "probe", image: "probe:1", essential: true }],
    }),
  );
  const arn = td.taskDefinition?.taskDefinitionArn;
  try {
    await aws.ecs.send(
      new CreateServiceCommand({ cluster: name, serviceName: name, taskDefinition: arn, desiredCount: 0, ...settings }),
    );
    const described = await aws.ecs.send(new DescribeServicesCommand({ cluster: name, services: [name] }));
    return described.services?.[0] ?? {};
  } finally {
    await aws.ecs.send(new DeleteServiceCommand({ cluster: name, service: name, force: true })).catch(() => {});
    await aws.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
    await aws.ecs.send(new DeleteClusterCommand({ cluster: name }));
  }
}

export const MOTO_LIMITS: MotoLimit[] = [
  {
    id: "appautoscaling-tags",
    service: "Application Auto Scaling",
    operation: "ListTagsForResource",
    resourceTypes: ["aws_appautoscaling_target"],
    effect: { kind: "operation-missing" },
    description:
      "moto has no tagging API for Application Auto Scaling: RegisterScalableTarget works, but the provider reads the target's tags back with ListTagsForResource, which moto answers with HTTP 500 (not implemented). The target stays tainted in the state, and the scaling policies and the scale-from-zero alarm, which refer to it, are not applied on moto.",
    async probe(aws) {
      try {
        await aws.appAutoScaling.send(
          new ListTagsForResourceCommand({
            ResourceARN: "arn:aws:application-autoscaling:us-east-2:123456789012:scalable-target/0123456789abcdef",
          }),
        );
        return false;
      } catch (error) {
        return notImplemented(error);
      }
    },
  },
  {
    id: "ecs-health-check-grace-period",
    service: "ECS",
    operation: "DescribeServices",
    resourceTypes: ["aws_ecs_service"],
    effect: { kind: "attribute-dropped", attribute: "health_check_grace_period_seconds" },
    description:
      "moto's CreateService and UpdateService ignore healthCheckGracePeriodSeconds and DescribeServices does not return it, so a service behind a load balancer plans `health_check_grace_period_seconds = 0 -> 60` after every apply.",
    async probe(aws) {
      const service = await describedBack(aws, { healthCheckGracePeriodSeconds: 60 });
      return service.healthCheckGracePeriodSeconds !== 60;
    },
  },
  {
    id: "ecs-no-tasks",
    service: "ECS",
    operation: "DescribeServices",
    resourceTypes: ["aws_ecs_service"],
    effect: { kind: "argument-set", attribute: "wait_for_steady_state", value: false },
    description:
      "moto runs no tasks: a service's runningCount stays 0 (or MOTO_ECS_SERVICE_RUNNING) and its deployment IN_PROGRESS, so a service with wait_for_steady_state = true would keep Terraform waiting until the provider's timeout. moto also keeps no deploymentConfiguration (circuit breaker, deployment alarms): the provider keeps the configured values in the state, so no diff shows, but nothing about them is proven on moto.",
    async probe(aws) {
      const service = await describedBack(aws, { desiredCount: 1 });
      return service.runningCount !== 1 || service.deployments?.[0]?.rolloutState !== "COMPLETED";
    },
  },
  {
    id: "ecs-availability-zone-rebalancing",
    service: "ECS",
    operation: "DescribeServices",
    resourceTypes: ["aws_ecs_service"],
    effect: { kind: "attribute-dropped", attribute: "availability_zone_rebalancing" },
    description:
      'moto\'s CreateService ignores availabilityZoneRebalancing and DescribeServices does not return it, so every service plans `+ availability_zone_rebalancing = "DISABLED"` after every apply.',
    async probe(aws) {
      const service = await describedBack(aws, { availabilityZoneRebalancing: "DISABLED" });
      return service.availabilityZoneRebalancing !== "DISABLED";
    },
  },
];

/** Runs every probe (in parallel); returns the limits moto shows and those it no longer has. */
export async function probeLimits(aws: AwsClients): Promise<{ observed: MotoLimit[]; gone: MotoLimit[] }> {
  const seen = await Promise.all(MOTO_LIMITS.map((limit) => limit.probe(aws)));
  return {
    observed: MOTO_LIMITS.filter((_, i) => seen[i]),
    gone: MOTO_LIMITS.filter((_, i) => !seen[i]),
  };
}
