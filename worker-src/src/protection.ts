/**
 * ECS task scale-in protection, bounded so that it can never stall a deployment
 * (protected tasks are stopped neither by scale-in nor by a deployment):
 *
 * - a task is protected when a job starts on an idle worker, for the job time
 *   budget in whole minutes, rounded down (ECS counts ExpiresInMinutes, at least 1),
 *   and it is never renewed: it ends by itself within max(budget, 60 s);
 * - it is dropped as soon as no job is in flight;
 * - it is taken again only after a receive came back empty (the queue ran dry).
 *   Under a steady backlog receives are never empty, so a busy task is protected
 *   at most once: after that, a deployment or a scale-in stops it, and the
 *   shutdown requeues what it was doing with its attempts intact.
 *
 * Uses the ECS agent's endpoint `$ECS_AGENT_URI/task-protection/v1/state`;
 * without ECS_AGENT_URI it is off. Calls are serialized.
 */
import { errorFields, type Logger } from "./logger.js";

export interface TaskProtectionOptions {
  agentUri?: string;
  log: Logger;
  /** The job time budget, seconds: the longest a protection lasts (whole minutes, at least ECS's 1). */
  budgetS: number;
  fetchImpl?: typeof fetch;
  now?: () => number;
}

export class TaskProtection {
  /** Protection requested and not yet dropped, until this time (ms); 0 when none. */
  private protectedUntil = 0;
  /** Whether the next busy period may be protected: at start, and after an empty receive. */
  private eligible = true;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  readonly expiresInMinutes: number;

  constructor(private readonly options: TaskProtectionOptions) {
    this.fetchImpl = options.fetchImpl ?? fetch;
    this.now = options.now ?? Date.now;
    // ECS takes 1 to 2880 minutes. Rounded down: never longer than the budget, except ECS's 1-minute minimum.
    this.expiresInMinutes = Math.min(2880, Math.max(1, Math.floor(options.budgetS / 60)));
  }

  get enabled(): boolean {
    return Boolean(this.options.agentUri);
  }

  /** Whether the agent was last asked to protect the task and that protection has not expired. */
  get isProtected(): boolean {
    return this.protectedUntil > this.now();
  }

  /** A receive returned `messages` messages; an empty one makes the next busy period eligible. */
  received(messages: number): void {
    if (messages === 0) this.eligible = true;
  }

  /** A job starts on an idle worker. Resolves once the agent has answered (or failed). */
  busy(): Promise<void> {
    return this.serial(async () => {
      if (!this.enabled || this.closed || !this.eligible || this.isProtected) return;
      // Eligibility is spent whether or not the agent answers: no retry loop into endless protection.
      this.eligible = false;
      const requestedAt = this.now();
      if (await this.put({ ProtectionEnabled: true, ExpiresInMinutes: this.expiresInMinutes })) {
        this.protectedUntil = requestedAt + this.expiresInMinutes * 60_000;
      }
    });
  }

  /** No job in flight any more: drop the protection. */
  idle(): Promise<void> {
    return this.serial(async () => {
      if (!this.enabled || !this.isProtected) return;
      if (await this.put({ ProtectionEnabled: false })) this.protectedUntil = 0;
    });
  }

  /** Shutdown: drop the protection and take none again. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private serial(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step);
    return this.chain;
  }

  private async put(body: { ProtectionEnabled: boolean; ExpiresInMinutes?: number }): Promise<boolean> {
    const enable = body.ProtectionEnabled;
    try {
      const response = await this.fetchImpl(`${this.options.agentUri}/task-protection/v1/state`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      const answer = (await response.json().catch(() => ({}))) as {
        protection?: unknown;
        failure?: unknown;
        error?: unknown;
      };
      if (!response.ok || answer.failure || answer.error) {
        this.options.log.warn("task protection not changed", {
          protectionEnabled: enable,
          status: response.status,
          failure: answer.failure ?? answer.error,
        });
        return false;
      }
      this.options.log.info(enable ? "task protected from scale-in" : "task protection dropped", {
        protectionEnabled: enable,
        ...(enable ? { expiresInMinutes: body.ExpiresInMinutes } : {}),
      });
      return true;
    } catch (error) {
      this.options.log.warn("task protection call failed", { protectionEnabled: enable, err: errorFields(error) });
      return false;
    }
  }
}
