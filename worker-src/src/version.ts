import { readFileSync } from "node:fs";

/** WORKER_VERSION (the image build sets it from the image tag), else package.json's version. */
export function workerVersion(env: Record<string, string | undefined> = process.env): string {
  if (env.WORKER_VERSION) return env.WORKER_VERSION;
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}
