/**
 * The contract between the worker and the compute stack that runs it: the one
 * definition of what both sides must agree on. The worker reads it at run time;
 * the stack (`stacks/`) imports this file when it writes the task definition,
 * the scaling policies and the alarms; the Dockerfile repeats the health check
 * and the paths, and a test compares them. Change a value here and both sides
 * follow (the synthesized stack shows the change in review).
 *
 * No imports: the stack's TypeScript reads this file as it is.
 */
export const WORKER_CONTRACT = {
  /** Writable paths in the container (the root file system is read-only on ECS). */
  paths: {
    /** Downloaded videos and thumbnails; a volume on the task's ephemeral storage. */
    scratchDir: "/scratch",
    /** The consumer loop's liveness file, read by the container health check. */
    healthFile: "/scratch/worker-health",
    /**
     * Temporary files of the runtime and of ffmpeg (TMPDIR): inside the scratch volume, so
     * no second volume is needed (a bind mount at /tmp would be root-owned on Fargate).
     * The image creates it owned by the worker's user; the worker creates it if missing and
     * checks at start that it can write there.
     */
    tmpDir: "/scratch/tmp",
  },
  /** The image's platform: the task definition's runtime_platform and `docker build --platform`. */
  platform: {
    operatingSystemFamily: "LINUX",
    cpuArchitecture: "X86_64",
    docker: "linux/amd64",
  },
  /** Stopping a task: ECS sends SIGTERM, then SIGKILL after `stopTimeoutS`. */
  stop: {
    /** The container's stopTimeout (ECS allows at most 120 s on Fargate). */
    stopTimeoutS: 120,
    /**
     * How long jobs in flight may still finish after SIGTERM; shorter than the
     * stop timeout so that the worker can give back what it could not finish.
     */
    shutdownGraceS: 100,
  },
  /** The container health check, as the task definition and the Dockerfile declare it. */
  healthCheck: {
    /** Absolute paths: ECS runs it without a shell, from whatever the working directory is. */
    command: ["CMD", "/usr/local/bin/node", "/app/dist/healthcheck.js"],
    intervalS: 30,
    timeoutS: 5,
    retries: 3,
    startPeriodS: 60,
  },
  /** The worker's Embedded Metric Format metrics, which the alarms read. */
  metrics: {
    namespace: "Cricksy/Worker",
    /** The dimension every metric carries, and its value. */
    serviceDimension: { name: "Service", value: "worker" },
    /**
     * The environment's dimension (staging and production in one account and region
     * must not share metrics); its value is the `environment` input, given to the
     * worker as `env.environment`.
     */
    environmentDimension: { name: "Environment" },
    /** Metric names per job outcome: each job counts 1 in exactly one of them. */
    outcomes: {
      succeeded: "JobsSucceeded",
      failed: "JobsFailed",
      retried: "JobsRetried",
      rejected: "JobsRejected",
      released: "JobsReleased",
      duplicate: "JobsDuplicate",
      lost: "JobsLost",
    },
    jobDuration: "JobDuration",
    queueWait: "QueueWait",
  },
  /** The analysis queue, as the worker uses it. */
  queue: {
    /**
     * Message attribute (Number) of a job that the worker gave back unfinished (shutdown):
     * the real attempts spent before this copy of the message. SQS's receive count
     * restarts with the copy, so the two added up are the job's real attempt. A tool
     * that replays dead letters drops it, so that a replayed job starts afresh.
     */
    attemptsAttribute: "cricksy.attempts",
    /** Message attribute (String) the worker adds when it moves a message to the dead-letter queue itself. */
    deadLetterReasonAttribute: "cricksy.dead-letter-reason",
  },
  /** Environment variables that the stack sets and the worker reads. */
  env: {
    queueUrl: "SQS_QUEUE_URL",
    bucket: "S3_BUCKET",
    region: "AWS_REGION",
    databaseUrl: "DATABASE_URL",
    shutdownGraceS: "WORKER_SHUTDOWN_GRACE_S",
    scratchDir: "WORKER_SCRATCH_DIR",
    healthFile: "WORKER_HEALTH_FILE",
    metricsNamespace: "WORKER_METRICS_NAMESPACE",
    environment: "WORKER_ENVIRONMENT",
    tmpDir: "TMPDIR",
  },
} as const;

export type WorkerContract = typeof WORKER_CONTRACT;
