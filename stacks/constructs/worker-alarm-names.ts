/**
 * How a worker alarm is named, from its key (`dead_letters`): the key in the
 * `worker_alarm_names` output, the Terraform name `worker_<key>` and the alarm
 * name `<project>-worker-<key with dashes>`.
 */
export function workerAlarmNames(namePrefix: string, key: string): { logicalId: string; alarmName: string } {
  return { logicalId: `worker_${key}`, alarmName: `${namePrefix}-worker-${key.replaceAll("_", "-")}` };
}

/** What the docs say about an alarm: `docs/worker-operations.md`'s alarm table is made from these (`npm run docs`). */
export interface WorkerAlarmDoc {
  /** The alarm's key: `dead_letters` (see `workerAlarmNames`). */
  readonly key: string;
  /** When it fires, for on-call. */
  readonly firesWhen: string;
  /** What on-call does when it fires. */
  readonly whatToDo: string;
}
