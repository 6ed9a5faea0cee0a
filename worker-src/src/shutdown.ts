/**
 * SIGTERM (ECS stopping the task) and SIGINT (Ctrl-C): run the shutdown once;
 * a second signal is logged and ignored, the shutdown already under way finishes.
 */
import type { Logger } from "./logger.js";

export function onShutdownSignals(shutdown: (signal: NodeJS.Signals) => Promise<void>, log: Logger): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) {
      log.warn("shutdown already under way", { signal });
      return;
    }
    started = true;
    log.info("shutdown signal received", { signal });
    shutdown(signal).catch((error) => {
      log.error("shutdown failed", { err: error });
      process.exitCode = 1;
    });
  };
  process.on("SIGTERM", handle);
  process.on("SIGINT", handle);
}
