/**
 * The task's size, for the default concurrency: from the ECS task metadata
 * endpoint (v4) on ECS, from the machine elsewhere.
 */
import { availableParallelism, totalmem } from "node:os";

export interface TaskSize {
  vcpu: number;
  memoryMiB: number;
  source: "ecs-metadata" | "machine";
}

export function machineSize(): TaskSize {
  return { vcpu: availableParallelism(), memoryMiB: Math.floor(totalmem() / 1024 / 1024), source: "machine" };
}

/** Reads `Limits` of `$ECS_CONTAINER_METADATA_URI_V4/task`; falls back to the machine's size. */
export async function detectTaskSize(
  env: Record<string, string | undefined>,
  fetchImpl: typeof fetch = fetch,
): Promise<TaskSize> {
  const base = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!base) return machineSize();
  try {
    const response = await fetchImpl(`${base}/task`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) return machineSize();
    const task = (await response.json()) as { Limits?: { CPU?: number; Memory?: number } };
    const vcpu = task.Limits?.CPU;
    const memoryMiB = task.Limits?.Memory;
    if (typeof vcpu !== "number" || typeof memoryMiB !== "number" || vcpu <= 0 || memoryMiB <= 0) return machineSize();
    return { vcpu, memoryMiB, source: "ecs-metadata" };
  } catch {
    return machineSize();
  }
}
