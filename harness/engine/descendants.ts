import { readdirSync, readFileSync } from 'node:fs';

/** Every live process below `root`, children first, read from /proc (there is no portable way in Node). Zombies, dead but not yet reaped, are left out. */
export function descendants(root = process.pid): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') continue;
    parents.set(Number(ppid), [...(parents.get(Number(ppid)) ?? []), Number(entry)]);
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

/**
 * SIGTERM to every descendant (QEMU quits on it), then SIGKILL to whatever is still there after `graceMs`;
 * returns once none is left. Synchronous on purpose: the event loop does not run meanwhile, so vitest's
 * worker pool never sees its workers end under it, which it reports as errors in a loop (tinypool's "Worker
 * exited unexpectedly", then ERR_IPC_CHANNEL_CLOSED for every message) until the process dies of them.
 */
export function terminateDescendantsSync(graceMs = 5000): void {
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const waitUntilNone = (deadline: number) => {
    while (Date.now() < deadline) {
      if (descendants().length === 0) return true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    return false;
  };
  signal(descendants(), 'SIGTERM');
  if (waitUntilNone(Date.now() + graceMs)) return;
  signal(descendants(), 'SIGKILL');
  waitUntilNone(Date.now() + graceMs);
}
