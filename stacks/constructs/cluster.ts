import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { Construct } from "constructs";
import { pin } from "../pin.js";

export interface ClusterProps {
  /** Cluster name. */
  readonly name: string;
  /** CloudWatch Container Insights; the worker's scaling reads its task counts. Default: true. */
  readonly containerInsights?: boolean;
  readonly tags?: { [key: string]: string };
}

/** The ECS cluster that both services run in: `aws_ecs_cluster.main`. */
export class Cluster extends Construct {
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
