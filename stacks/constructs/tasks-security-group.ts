import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Construct } from "constructs";
import { pin } from "../pin.js";

export interface TasksSecurityGroupProps {
  /** Used in the group's name and description. */
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Security group of the load balancer; the only peer that may reach the backend. */
  readonly loadBalancerSecurityGroupId: string;
  /** Port the backend container listens on. */
  readonly backendPort: number;
  readonly tags?: { [key: string]: string };
}

/**
 * One security group for all ECS tasks (`aws_security_group.ecs_tasks`): only the
 * load balancer may reach the backend's port; everything may go out (ECR, S3, SQS,
 * Secrets Manager through the NAT or VPC endpoints).
 */
export class TasksSecurityGroup extends Construct {
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: TasksSecurityGroupProps) {
    super(scope, id);
    this.securityGroup = pin(
      new SecurityGroup(this, "security-group", {
        name: `${props.namePrefix}-ecs-tasks`,
        description: `ECS tasks of ${props.namePrefix}`,
        vpcId: props.vpcId,
        ingress: [
          {
            description: "Backend from the load balancer",
            fromPort: props.backendPort,
            toPort: props.backendPort,
            protocol: "tcp",
            securityGroups: [props.loadBalancerSecurityGroupId],
          },
        ],
        egress: [
          {
            description: "All outbound",
            fromPort: 0,
            toPort: 0,
            protocol: "-1",
            cidrBlocks: ["0.0.0.0/0"],
          },
        ],
        tags: props.tags,
      }),
      "ecs_tasks",
    );
  }
}
