/**
 * The worker process: `node dist/main.js`. Reads its configuration, checks its
 * directories and its queue, then consumes analysis jobs until SIGTERM/SIGINT,
 * drains, and exits 0.
 * Exit 78 (EX_CONFIG) when the configuration is missing or malformed, or a
 * directory it needs is not writable; exit 1 when the queue cannot be read.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { Consumer, type RedriveSettings } from "./consumer.js";
import { WORKER_CONTRACT } from "./contract.js";
import { DatabaseSettingError, describeDatabase, parseDatabaseSetting } from "./database.js";
import { backoffSeconds } from "./errors.js";
import { Liveness } from "./health.js";
import { jobIdOf } from "./job.js";
import { createAnalysisHandler } from "./job-handler.js";
import { createLogger, errorFields, type Logger } from "./logger.js";
import { emitJobMetrics } from "./metrics.js";
import { TaskProtection } from "./protection.js";
import { readRedrivePolicy } from "./queue.js";
import { onShutdownSignals } from "./shutdown.js";
import { checkWritableDir, checkWritableFile } from "./startup.js";
import { VideoStorage } from "./storage.js";
import { detectTaskSize } from "./task-size.js";
import { workerVersion } from "./version.js";

const EX_CONFIG = 78;

function exitOnConfigError(error: unknown, version: string): never {
  if (!(error instanceof ConfigError)) throw error;
  createLogger({ base: { version } }).error(`invalid configuration: ${error.message}`, { variable: error.variable });
  process.exit(EX_CONFIG);
}

/** DATABASE_URL is not used yet: read it to say what it holds (never the secret), and never stop over it. */
function reportDatabaseSetting(config: Config, log: Logger): void {
  if (config.databaseSetting === undefined) return;
  try {
    log.info("database setting read (not used yet)", {
      database: describeDatabase(parseDatabaseSetting(config.databaseSetting)),
    });
  } catch (error) {
    if (!(error instanceof DatabaseSettingError)) throw error;
    log.warn(`${WORKER_CONTRACT.env.databaseUrl} ${error.message}; ignored, the worker does not use it yet`, {
      variable: WORKER_CONTRACT.env.databaseUrl,
    });
  }
}

/**
 * The redrive policy, with a few tries: a task that cannot read its queue is restarted by ECS.
 * `null` when a shutdown signal came first (`stopping` aborted).
 */
async function redriveOf(
  sqs: SQSClient,
  config: Config,
  log: Logger,
  stopping: AbortSignal,
): Promise<RedriveSettings | undefined | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readRedrivePolicy(sqs, config.queueUrl, stopping);
    } catch (error) {
      if (stopping.aborted) return null;
      if (attempt >= 4) {
        log.error("cannot read the queue's redrive policy (sqs:GetQueueAttributes); stopping", {
          err: errorFields(error),
          queueUrl: config.queueUrl,
        });
        process.exit(1);
      }
      const delayS = backoffSeconds(attempt, 1, 8);
      log.warn("reading the queue's redrive policy failed; trying again", { err: errorFields(error), delayS });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayS * 1000);
        stopping.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (stopping.aborted) return null;
    }
  }
}

async function main(): Promise<void> {
  const version = workerVersion();
  const taskSize = await detectTaskSize(process.env);
  let config: Config;
  try {
    config = loadConfig(process.env, taskSize);
    // TMPDIR may sit inside the scratch volume (it does in the image): made if missing.
    await checkWritableDir(WORKER_CONTRACT.env.tmpDir, config.tmpDir, { create: true });
    await checkWritableDir(config.scratchDirVariable, config.scratchDir, {
      note:
        config.scratchDirVariable === WORKER_CONTRACT.env.tmpDir
          ? `${WORKER_CONTRACT.env.scratchDir} is unset, so downloads go to TMPDIR too`
          : undefined,
    });
    await checkWritableFile(WORKER_CONTRACT.env.healthFile, config.healthFile);
  } catch (error) {
    exitOnConfigError(error, version);
  }
  // node (os.tmpdir()) and the ffmpeg processes it starts use this one.
  process.env[WORKER_CONTRACT.env.tmpDir] = config.tmpDir;

  const log = createLogger({ level: config.logLevel, base: { version } });
  reportDatabaseSetting(config, log);
  if (config.environment === undefined) {
    log.warn(
      `${WORKER_CONTRACT.env.environment} is not set: metrics carry no ${WORKER_CONTRACT.metrics.environmentDimension.name} dimension, and an environment's alarms do not see them`,
      { variable: WORKER_CONTRACT.env.environment },
    );
  }

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
  // A signal during start-up (ECS stopping a task that has not started consuming) ends it at
  // once: nothing has been received, so nothing can be lost.
  const startingUp = new AbortController();
  let stop: () => Promise<void> = async () => startingUp.abort();
  onShutdownSignals(() => stop(), log);

  const redrive = await redriveOf(sqs, config, log, startingUp.signal);
  if (redrive === null || startingUp.signal.aborted) {
    log.info("stopped during start-up, before the first receive: nothing was received, nothing is lost");
    sqs.destroy();
    s3.destroy();
    return;
  }
  if (!redrive) log.warn("the queue has no redrive policy: jobs that keep failing are retried without end");

  const protection = new TaskProtection({ agentUri: config.ecsAgentUri, log, budgetS: config.jobTimeoutS });
  const liveness = new Liveness(config.healthFile);
  const handler = createAnalysisHandler({
    storage: new VideoStorage(s3, config.bucket),
    scratchDir: config.scratchDir,
    thumbnails: config.thumbnails,
    version,
    tools: config.tools,
  });
  const consumer = new Consumer({
    sqs,
    queueUrl: config.queueUrl,
    log,
    handler: handler.handle,
    giveUp: handler.giveUp,
    describe: (message) => {
      const jobId = jobIdOf(message.Body);
      return jobId ? { jobId } : {};
    },
    redrive,
    concurrency: config.concurrency,
    visibilityTimeoutS: config.visibilityTimeoutS,
    waitTimeS: config.waitTimeS,
    jobTimeoutS: config.jobTimeoutS,
    retryBaseS: config.retryBaseS,
    retryMaxS: config.retryMaxS,
    onReceive: (messages) => protection.received(messages),
    onBusy: () => protection.busy(),
    onIdle: () => void protection.idle(),
    onAlive: () => liveness.beat(),
    onSettled: (job) =>
      emitJobMetrics(log, { namespace: config.metricsNamespace, environment: config.environment }, job),
  });

  stop = async () => {
    await consumer.stop(config.shutdownGraceS);
    await protection.close();
  };

  liveness.beat();
  log.info("worker started", {
    queueUrl: config.queueUrl,
    bucket: config.bucket,
    region: config.region,
    environment: config.environment,
    concurrency: config.concurrency,
    taskSize,
    visibilityTimeoutS: config.visibilityTimeoutS,
    jobTimeoutS: config.jobTimeoutS,
    shutdownGraceS: config.shutdownGraceS,
    maxAttempts: redrive?.maxAttempts,
    deadLetterQueueUrl: redrive?.deadLetterQueueUrl,
    scratchDir: config.scratchDir,
    tmpDir: config.tmpDir,
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
