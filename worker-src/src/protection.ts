/**
 * ECS task scale-in protection: while jobs are in flight the task is protected,
 * so that the service's autoscaler does not stop it mid-job; when idle, the
 * protection is dropped. Uses the ECS agent's endpoint
 * `$ECS_AGENT_URI/task-protection/v1/state`; without ECS_AGENT_URI it is off.
 * Calls are serialized and coalesced: the agent always ends in the latest state.
 */
import { errorFields, type Logger } from "./logger.js";

export interface TaskProtectionOptions {
  agentUri?: string;
  log: Logger;
  /** How long one protection lasts; renewed at half of it while busy. Default 60. */
  expiresInMinutes?: number;
  fetchImpl?: typeof fetch;
}

export class TaskProtection {
  private wanted = false;
  private current = false;
  private chain: Promise<void> = Promise.resolve();
  private renewTimer?: NodeJS.Timeout;
  private readonly expiresInMinutes: number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: TaskProtectionOptions) {
    this.expiresInMinutes = options.expiresInMinutes ?? 60;
    this.fetchImpl = options.fetchImpl ?? fetch;
  }

  get enabled(): boolean {
    return Boolean(this.options.agentUri);
  }

  /** Protect the task (jobs in flight). Resolves once the agent has answered. */
  busy(): Promise<void> {
    this.wanted = true;
    return this.sync();
  }

  /** Drop the protection (no job in flight). */
  idle(): Promise<void> {
    this.wanted = false;
    return this.sync();
  }

  private sync(force = false): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (!this.enabled || (this.wanted === this.current && !force)) return;
      const enable = this.wanted;
      if (await this.put(enable)) this.current = enable;
      clearTimeout(this.renewTimer);
      if (this.current) {
        this.renewTimer = setTimeout(() => void this.sync(true), (this.expiresInMinutes * 60_000) / 2);
        this.renewTimer.unref();
      }
    });
    return this.chain;
  }

  private async put(enable: boolean): Promise<boolean> {
    const body = enable
      ? { ProtectionEnabled: true, ExpiresInMinutes: this.expiresInMinutes }
      : { ProtectionEnabled: false };
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
        ...(enable ? { expiresInMinutes: this.expiresInMinutes } : {}),
      });
      return true;
    } catch (error) {
      this.options.log.warn("task protection call failed", { protectionEnabled: enable, err: errorFields(error) });
      return false;
    }
  }

  /** Stops renewing (shutdown). */
  close(): void {
    clearTimeout(this.renewTimer);
  }
}
