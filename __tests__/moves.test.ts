/**
 * The one move heuristic, shared by the diff (two synths) and the state check
 * (a state against a synth): which removed and added addresses are one object.
 */
import { describe, expect, it } from "vitest";
import { proposeMoves } from "../tools/lib/stack/moves.js";

const managed = (address: string, attributes?: Record<string, unknown>) => ({
  address,
  mode: "managed" as const,
  type: address.split(".")[0],
  attributes,
});

describe("proposed moves", () => {
  it("pair two synths' resources of one type by their attributes, not by the order they come in", () => {
    const removed = [
      managed("aws_cloudwatch_log_group.api", { name: "/ecs/api", retention_in_days: 30 }),
      managed("aws_cloudwatch_log_group.jobs", { name: "/ecs/jobs", retention_in_days: 30 }),
    ];
    const added = [
      managed("aws_cloudwatch_log_group.worker", { name: "/ecs/jobs", retention_in_days: 30 }),
      managed("aws_cloudwatch_log_group.backend", { name: "/ecs/api", retention_in_days: 30 }),
    ];
    expect(proposeMoves(removed, added)).toEqual([
      {
        from: "aws_cloudwatch_log_group.api",
        to: "aws_cloudwatch_log_group.backend",
        type: "aws_cloudwatch_log_group",
      },
      {
        from: "aws_cloudwatch_log_group.jobs",
        to: "aws_cloudwatch_log_group.worker",
        type: "aws_cloudwatch_log_group",
      },
    ]);
  });

  it("do not pair unlike resources when there are others of their type, nor across types or modes", () => {
    const removed = [
      managed("aws_iam_role.a", { name: "a", path: "/" }),
      managed("aws_iam_role.b", { name: "b", path: "/" }),
      managed("aws_iam_policy.x", { name: "x" }),
    ];
    const added = [
      managed("aws_iam_role.c", { name: "c", path: "/service/" }),
      { address: "data.aws_iam_policy.x", mode: "data" as const, type: "aws_iam_policy", attributes: { name: "x" } },
    ];
    expect(proposeMoves(removed, added)).toEqual([]);
  });

  it("pair the only removed and the only added of a type even when they differ", () => {
    expect(
      proposeMoves([managed("aws_ecs_cluster.main", { name: "a" })], [managed("aws_ecs_cluster.core", { name: "b" })]),
    ).toEqual([{ from: "aws_ecs_cluster.main", to: "aws_ecs_cluster.core", type: "aws_ecs_cluster" }]);
  });

  it("pair by the closest names where there are no attributes to compare (a state against a synth)", () => {
    const removed = [managed("aws_ecs_service.analysis_worker"), managed("aws_ecs_service.api")];
    const added = [managed("aws_ecs_service.api_service"), managed("aws_ecs_service.worker")];
    expect(proposeMoves(removed, added)).toEqual([
      { from: "aws_ecs_service.analysis_worker", to: "aws_ecs_service.worker", type: "aws_ecs_service" },
      { from: "aws_ecs_service.api", to: "aws_ecs_service.api_service", type: "aws_ecs_service" },
    ]);
  });
});
