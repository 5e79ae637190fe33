import { readdirSync, readFileSync } from 'node:fs';

/** A process's state letter (`Z` for a zombie: dead, not yet reaped) and parent, from /proc; undefined once it is gone. */
export function procStat(pid: number | string): { state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name, in parentheses, may itself hold spaces and parentheses: the fields follow the last ')'.
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: state!, ppid: Number(ppid) };
}

/** `sig` to each of `pids`, those gone meanwhile passed over. */
export function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone meanwhile
    }
  }
}

/** Every live process below `root`, children first, read from /proc (there is no portable way in Node). Zombies, dead but not yet reaped, are left out. */
export function descendants(root = process.pid): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (!stat || stat.state === 'Z') continue;
    parents.set(stat.ppid, [...(parents.get(stat.ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
}

/** What Atomics.wait sleeps on: nothing ever wakes it, so each wait lasts its timeout. */
const NEVER_WOKEN = new Int32Array(new SharedArrayBuffer(4));

/**
 * SIGTERM to every descendant (QEMU quits on it), then SIGKILL to whatever is still there after `graceMs`;
 * returns once none is left. Synchronous on purpose: the event loop does not run meanwhile, so vitest's
 * worker pool never sees its workers end under it, which it reports as errors in a loop (tinypool's "Worker
 * exited unexpectedly", then ERR_IPC_CHANNEL_CLOSED for every message) until the process dies of them.
 */
export function terminateDescendantsSync(graceMs = 5000): void {
  const waitUntilNone = (deadline: number) => {
    while (Date.now() < deadline) {
      if (descendants().length === 0) return true;
      Atomics.wait(NEVER_WOKEN, 0, 0, 50);
    }
    return false;
  };
  signal(descendants(), 'SIGTERM');
  if (waitUntilNone(Date.now() + graceMs)) return;
  signal(descendants(), 'SIGKILL');
  waitUntilNone(Date.now() + graceMs);
}
