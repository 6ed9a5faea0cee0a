/**
 * The worker process: `node dist/main.js`. Reads its configuration, then
 * consumes analysis jobs until SIGTERM/SIGINT, drains, and exits 0.
 * Exit 78 (EX_CONFIG) when the configuration is missing or malformed.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { Consumer } from "./consumer.js";
import { Liveness } from "./health.js";
import { createAnalysisHandler } from "./job-handler.js";
import { createLogger } from "./logger.js";
import { emitJobMetrics } from "./metrics.js";
import { TaskProtection } from "./protection.js";
import { onShutdownSignals } from "./shutdown.js";
import { VideoStorage } from "./storage.js";
import { detectTaskSize } from "./task-size.js";
import { workerVersion } from "./version.js";

const EX_CONFIG = 78;

async function main(): Promise<void> {
  const version = workerVersion();
  const taskSize = await detectTaskSize(process.env);
  let config: Config;
  try {
    config = loadConfig(process.env, taskSize);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger({ base: { version } }).error(`invalid configuration: ${error.message}`, { variable: error.variable });
    process.exit(EX_CONFIG);
  }

  const log = createLogger({ level: config.logLevel, base: { version } });
  // With an endpoint override (an emulator), SQS must send there, not to the queue URL's host,
  // and S3 must use path-style addressing.
  const sqs = new SQSClient({
    region: config.region,
    ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}),
    requestHandler: { connectionTimeout: 5000, requestTimeout: (config.waitTimeS + 15) * 1000 },
  });
  const s3 = new S3Client({
    region: config.region,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}),
    requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
  });
  const protection = new TaskProtection({ agentUri: config.ecsAgentUri, log });
  const liveness = new Liveness(config.healthFile);
  const consumer = new Consumer({
    sqs,
    queueUrl: config.queueUrl,
    log,
    handler: createAnalysisHandler({
      storage: new VideoStorage(s3, config.bucket),
      scratchDir: config.scratchDir,
      thumbnails: config.thumbnails,
      version,
    }),
    concurrency: config.concurrency,
    visibilityTimeoutS: config.visibilityTimeoutS,
    waitTimeS: config.waitTimeS,
    jobTimeoutS: config.jobTimeoutS,
    retryBaseS: config.retryBaseS,
    retryMaxS: config.retryMaxS,
    onBusy: () => protection.busy(),
    onIdle: () => void protection.idle(),
    onAlive: () => liveness.beat(),
    onSettled: (job) => emitJobMetrics(log, config.metricsNamespace, job),
  });

  onShutdownSignals(async () => {
    await consumer.stop(config.shutdownGraceS);
    await protection.idle();
    protection.close();
  }, log);

  liveness.beat();
  log.info("worker started", {
    queueUrl: config.queueUrl,
    bucket: config.bucket,
    region: config.region,
    concurrency: config.concurrency,
    taskSize,
    visibilityTimeoutS: config.visibilityTimeoutS,
    jobTimeoutS: config.jobTimeoutS,
    shutdownGraceS: config.shutdownGraceS,
    taskProtection: protection.enabled,
    endpoints: { sqs: config.sqsEndpoint, s3: config.s3Endpoint },
  });
  await consumer.run();
  sqs.destroy();
  s3.destroy();
  log.info("worker stopped");
}

main().catch((error) => {
  createLogger().error("worker crashed", { err: error });
  process.exit(1);
});
