/**
 * A test hook, for the fault-injection tests (test/faults/): `TWOFOLD_FAULT=<fault>` in a worker's
 * environment makes the processor fail at one named point, so a test can crash a real `twofold
 * worker` process, or fill its disk, at exactly the moment it wants instead of racing a timer.
 *
 *   kill-after-plan-write   SIGKILL the process right after the plan file was replaced: before
 *                           the activity log, the answer and the journal's "done" (recovery must
 *                           apply the reply exactly once after a restart)
 *   enospc-on-plan-write    every plan write fails with ENOSPC, as on a full disk (nothing may
 *                           be half written, and the message must come again)
 *
 * Unset — always, outside tests — there is no hook at all: the processor gets `undefined` and
 * every call site is `deps.fault?.(…)`. An unknown name is refused at start, so a typo in a test
 * cannot pass silently.
 */
import { TwofoldError } from '../../site/core/errors/problem.ts';

export const FAULT_ENV = 'TWOFOLD_FAULT';

/** Where the processor calls the hook: before and after it replaces a plan file. */
export type FaultPoint = 'plan-write' | 'plan-written';
export type FaultHook = (point: FaultPoint) => void;

const FAULTS: Record<string, { point: FaultPoint; act: () => void }> = {
  'kill-after-plan-write': {
    point: 'plan-written',
    act: () => {
      process.kill(process.pid, 'SIGKILL');
    },
  },
  'enospc-on-plan-write': {
    point: 'plan-write',
    act: () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    },
  },
};

export const FAULT_NAMES = Object.keys(FAULTS);

/** The hook `TWOFOLD_FAULT` asks for, or undefined when it is unset. */
export function faultHookFrom(env: Record<string, string | undefined>): FaultHook | undefined {
  const name = env[FAULT_ENV];
  if (!name) return undefined;
  const fault = FAULTS[name];
  if (!fault) throw new TwofoldError('CONFIG_INVALID', `${FAULT_ENV}=${name} is not a fault this test hook knows (${FAULT_NAMES.join(', ')}); unset it outside tests`);
  return (point) => {
    if (point === fault.point) fault.act();
  };
}
