import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QemuBinary } from './binary.js';

/** Whether this test hides util-linux's setpriv from process.ts, as on a host without it. */
const host = vi.hoisted(() => ({ setprivMissing: false }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    existsSync: (p: Parameters<typeof fs.existsSync>[0]) => !(host.setprivMissing && /setpriv$/.test(String(p))) && fs.existsSync(p),
  };
});

/** process.ts loaded afresh: it looks for setpriv, and remembers having warned, once per load. */
async function freshProcessModule(setprivMissing: boolean) {
  host.setprivMissing = setprivMissing;
  vi.resetModules();
  return import('./process.js');
}

/** Stands for QEMU: exits at once. QemuProcess uses only these fields. */
const TRUE = { command: '/bin/true', prefix: [] as string[], env: {} } as Pick<QemuBinary, 'command' | 'prefix' | 'env'> as QemuBinary;

let stderr: { mock: { calls: unknown[][] }; mockRestore(): void };

beforeEach(() => {
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(() => {
  stderr.mockRestore();
});

describe('without util-linux setpriv', () => {
  it('deathTie says once that QEMU will not die with a killed harness, and how to fix it', async () => {
    const { deathTie } = await freshProcessModule(false);
    const warn = vi.fn();
    expect(deathTie(undefined, warn)).toEqual([]);
    expect(deathTie(undefined, warn)).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(
      /setpriv is not installed.*will not be killed if the harness is killed outright.*install util-linux/i,
    );
  });

  it('deathTie ties QEMU through setpriv when it is there, silently', async () => {
    const { deathTie } = await freshProcessModule(false);
    const warn = vi.fn();
    expect(deathTie('/usr/bin/setpriv', warn)).toEqual(['/usr/bin/setpriv', '--pdeathsig', 'KILL']);
    expect(warn).not.toHaveBeenCalled();
  });

  it('starting QEMU warns on stderr, once per process', async () => {
    const { QemuProcess } = await freshProcessModule(true);
    for (let i = 0; i < 2; i++) {
      const p = new QemuProcess(TRUE, []);
      expect(p.commandLine).toBe('/bin/true');
      expect((await p.exited).code).toBe(0);
    }
    const warnings = stderr.mock.calls.map(([text]) => String(text)).filter((t) => t.includes('setpriv'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/QEMU is started untied, so it will not be killed if the harness is killed outright/);
  });

  it('a guest started untied on purpose (--keep) brings no warning', async () => {
    const { QemuProcess } = await freshProcessModule(true);
    await new QemuProcess(TRUE, [], true).exited;
    expect(stderr.mock.calls.filter(([text]) => String(text).includes('setpriv'))).toEqual([]);
  });

  it('with setpriv present, starting QEMU says nothing', async () => {
    const { QemuProcess } = await freshProcessModule(false);
    expect((await new QemuProcess(TRUE, []).exited).code).toBe(0);
    expect(stderr.mock.calls.filter(([text]) => String(text).includes('setpriv'))).toEqual([]);
  });
});
