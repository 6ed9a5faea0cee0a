import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Construct } from "constructs";
import { pin } from "../pin.js";
import type { Tags } from "../tags.js";

export interface WorkerSecurityGroupProps {
  /** Used in the group's name and description (the project name). */
  readonly namePrefix: string;
  /** VPC of the group (from outside the stack: an id). */
  readonly vpcId: string;
  /** Tags of the group. @default - none */
  readonly tags?: Tags;
}

/**
 * The worker's own security group, `aws_security_group.worker`: nothing may come in
 * (the worker listens on no port), and only HTTPS may go out (SQS, S3, ECR, CloudWatch
 * Logs, ECS: every AWS API the task reaches, through the NAT or VPC endpoints).
 * DNS needs no rule: "Security groups do not filter traffic destined to and from ...
 * Amazon Domain Name Services (DNS), ... Amazon ECS task metadata endpoints" (the VPC user
 * guide, https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html); the
 * task protection endpoint the worker calls is the ECS agent's, at the same link-local address.
 */
export class WorkerSecurityGroup extends Construct {
  /** `aws_security_group.worker`. */
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: WorkerSecurityGroupProps) {
    super(scope, id);
    this.securityGroup = pin(
      new SecurityGroup(this, "security-group", {
        name: `${props.namePrefix}-worker`,
        description: `Video-analysis worker of ${props.namePrefix}: no ingress, HTTPS out`,
        vpcId: props.vpcId,
        ingress: [],
        egress: [
          {
            description: "HTTPS to AWS APIs (SQS, S3, ECR, CloudWatch Logs, ECS)",
            fromPort: 443,
            toPort: 443,
            protocol: "tcp",
            cidrBlocks: ["0.0.0.0/0"],
          },
        ],
        tags: props.tags,
      }),
      "worker",
    );
  }
}
