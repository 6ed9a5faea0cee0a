import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";

export interface TasksSecurityGroupProps {
  /** Used in the group's name and description (the project name). */
  readonly namePrefix: string;
  /** VPC of the group (from outside the stack: an id). */
  readonly vpcId: string;
  /** Security group of the load balancer (an id): the only peer that may reach the tasks. */
  readonly loadBalancerSecurityGroupId: string;
  /** The one port the load balancer may reach: the one its target group sends to (the backend's container port). */
  readonly loadBalancerPort: number;
  /** Tags of the group. @default - none */
  readonly tags?: Tags;
}

/**
 * One security group for all ECS tasks (`aws_security_group.ecs_tasks`): only the
 * load balancer may come in, on `loadBalancerPort`; everything may go out (ECR, S3,
 * SQS, Secrets Manager through the NAT or VPC endpoints).
 */
export class TasksSecurityGroup extends Construct {
  /** `aws_security_group.ecs_tasks`. */
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: TasksSecurityGroupProps) {
    super(scope, id);
    const port = props.loadBalancerPort;
    if (!Token.isUnresolved(port) && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
      throw new Error(`TasksSecurityGroup: loadBalancerPort is ${port}: give the container's TCP port, 1 to 65535`);
    }
    this.securityGroup = pin(
      new SecurityGroup(this, "security-group", {
        name: `${props.namePrefix}-ecs-tasks`,
        description: `ECS tasks of ${props.namePrefix}`,
        vpcId: props.vpcId,
        ingress: [
          {
            description: "Backend from the load balancer",
            fromPort: port,
            toPort: port,
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
