import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";

export interface ClusterProps {
  /** Cluster name. */
  readonly name: string;
  /** CloudWatch Container Insights; the worker's scaling and alarms read its task counts. @default true */
  readonly containerInsights?: boolean;
  /** Tags of the cluster. @default - none */
  readonly tags?: Tags;
}

/** The ECS cluster that both services run in: `aws_ecs_cluster.main`. */
export class Cluster extends Construct {
  /** `aws_ecs_cluster.main`. */
  readonly cluster: EcsCluster;

  constructor(scope: Construct, id: string, props: ClusterProps) {
    super(scope, id);
    this.cluster = pin(
      new EcsCluster(this, "cluster", {
        name: props.name,
        setting: [{ name: "containerInsights", value: (props.containerInsights ?? true) ? "enabled" : "disabled" }],
        tags: props.tags,
      }),
      "main",
    );
  }
}
