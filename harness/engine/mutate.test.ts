import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configurationMutants } from './mutate.js';

const SCENARIO = `name: m
files: { a: { size: 1G } }
guests:
  vm:
    memory: { ram: 512M, slots: 2, maxmem: 2G }
    nvdimms: [{ id: nv1, backend: { file: a }, label-size: 128K }]
steps:
  - boot: vm
  - hotplug: { guest: vm, id: nv2, backend: { file: a, share: off }, error: "no free slots" }
`;

describe('configurationMutants', () => {
  const mutants = configurationMutants(SCENARIO);
  const byId = Object.fromEntries(mutants.map((m) => [m.id, parse(m.text) as Record<string, any>]));

  it('flips share on every backend, cold- and hot-plugged (share defaults to on)', () => {
    expect(byId['guests.vm.nvdimms.0.backend.share: on -> off']!.guests.vm.nvdimms[0].backend.share).toBe('off');
    expect(byId['step 2.hotplug.backend.share: off -> on']!.steps[1].hotplug.backend.share).toBe('on');
  });

  it('drops and doubles each label size', () => {
    expect(byId['guests.vm.nvdimms.0.label-size: dropped']!.guests.vm.nvdimms[0]).not.toHaveProperty('label-size');
    expect(byId['guests.vm.nvdimms.0.label-size: doubled']!.guests.vm.nvdimms[0]['label-size']).toBe('128K + 128K');
  });

  it('raises slots and maxmem where a refusal is expected, and only there', () => {
    const raised = byId['guests.vm.memory: slots and maxmem raised']!.guests.vm.memory;
    expect(raised).toEqual({ ram: '512M', slots: 6, maxmem: '2G + 4G' });
    const noRefusal = configurationMutants(SCENARIO.replace(/, error: "no free slots"/, ''));
    expect(noRefusal.map((m) => m.id).filter((id) => /slots|maxmem/.test(id))).toEqual([]);
    const gatedAway = configurationMutants(SCENARIO, (step) => step !== 1);
    expect(gatedAway.map((m) => m.id).filter((id) => /slots|maxmem/.test(id))).toEqual([]);
  });

  it('flips share only for guests that boot: a refused guest observes nothing', () => {
    const refusedOnly = configurationMutants(SCENARIO.replace('  - boot: vm\n', '  - expect-start-failure: { guest: vm, message: x }\n'));
    expect(refusedOnly.map((m) => m.id).filter((id) => id.startsWith('guests.vm.nvdimms.0.backend.share'))).toEqual([]);
  });

  it('keeps everything else as it was', () => {
    expect(mutants).toHaveLength(5);
    for (const m of mutants) expect((parse(m.text) as { name: string }).name).toBe('m');
  });

  it('flips readonly and unarmed, and drops nvdimm-persistence, of a guest that boots', () => {
    const text = SCENARIO.replace(
      'backend: { file: a }, label-size: 128K',
      'backend: { file: a, readonly: on, share: off }, unarmed: on',
    ).replace('    memory: { ram: 512M', '    machine: { nvdimm-persistence: cpu }\n    memory: { ram: 512M');
    const ids = configurationMutants(text).map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'guests.vm.nvdimms.0.backend.readonly: on -> off',
        'guests.vm.nvdimms.0.unarmed: on -> off',
        'guests.vm.machine.nvdimm-persistence: dropped',
      ]),
    );
  });

  it('drops align, offset and pmem of a backend whose guest QEMU was asked to start, booted or refused', () => {
    const text = SCENARIO.replace('backend: { file: a }, label-size: 128K', 'backend: { file: a, align: 3M, offset: 1M, pmem: on }');
    const ids = (t: string) => configurationMutants(t).map((m) => m.id);
    const dropped = ['align', 'offset', 'pmem'].map((k) => `guests.vm.nvdimms.0.backend.${k}: dropped`);
    expect(ids(text)).toEqual(expect.arrayContaining(dropped));
    expect(ids(text.replace('  - boot: vm\n', '  - expect-start-failure: { guest: vm, message: x }\n'))).toEqual(
      expect.arrayContaining(dropped),
    );
    expect(configurationMutants(text, () => false).map((m) => m.id)).toEqual([]);
  });
});
