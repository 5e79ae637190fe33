/**
 * Mutation checks of a scenario: proof that each of its checks can fail. Expectation mutants (an expected
 * size, count, mode or flag changed, `match` inverted, one version's message expected on another) are
 * judged against what one real run observed, with no extra boot. Configuration mutants (`share`, `readonly`
 * and `unarmed` flipped, `nvdimm-persistence`, `align`, `offset`, `pmem`, an NVDIMM's `node` and `uuid` dropped, `label-size` dropped or doubled, `slots` and `maxmem` raised for a guest QEMU is expected to refuse) change the file and
 * run it again: a mutant under which every step still passes survives.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { ScenarioError, parseScenario, type LoadedScenario } from '../scenario/load.js';
import type { Environment } from './environment.js';
import { ScenarioRun } from './scenario-run.js';
import { judgeAgain, runSteps, stepMutants, type StepResult } from './steps/index.js';

export interface MutantResult {
  /** Where the change is, and what it is: the id a scenario's `survivors:` names. */
  id: string;
  kind: 'expectation' | 'configuration';
  outcome: 'killed' | 'survived' | 'refused by the loader';
  /** Why it was killed: the first failure it caused. */
  detail?: string;
}

/** Runs every step in order, as a scenario run does, keeping each check's observation; stops at the first failure. */
export async function runAllSteps(loaded: LoadedScenario, env: Environment, artifacts: string): Promise<StepResult[]> {
  const run = await ScenarioRun.open(loaded, env, artifacts);
  try {
    const reason = run.skipReason();
    if (reason) return run.plan.steps.map((step) => ({ step, status: 'skipped', reason, ms: 0 }));
    return await runSteps(run, run.plan.steps);
  } finally {
    await run.close(false);
  }
}

/** Each check that passed, judged again with each of its expectations changed. */
export function expectationMutants(results: StepResult[], qemuVersion: string): MutantResult[] {
  return results.flatMap(({ step, status, seen }) =>
    status !== 'passed'
      ? []
      : stepMutants(step, qemuVersion).map((m): MutantResult => {
          const error = judgeAgain(step, m.args, seen, qemuVersion);
          return {
            id: `step ${step.index + 1}.${step.action}: ${m.label}`,
            kind: 'expectation',
            outcome: error ? 'killed' : 'survived',
            detail: error?.message.split('\n')[0],
          };
        }),
  );
}

/**
 * The scenario's text changed once per configuration mutant. `ran`: the steps that ran in the real run; a
 * refusal gated away by its `when:` is no reason to raise its guest's slots or maxmem.
 */
export function configurationMutants(text: string, ran: (index: number) => boolean = () => true): { id: string; text: string }[] {
  const mutants: { id: string; text: string }[] = [];
  const base = parseDocument(text);
  const changed = (id: string, edit: (doc: Document) => void) => {
    const doc = base.clone();
    edit(doc);
    mutants.push({ id, text: doc.toString() });
  };
  const steps = base.get('steps');
  /** Guests booted in a step that ran: only their backends' share can matter to what is observed. */
  const booted = new Set<string>();
  /** Guests QEMU is expected to refuse something for, in a step that ran. */
  const refused = new Set<string>();
  const backends: (string | number)[][] = [];
  const labelled: (string | number)[][] = [];
  /** Backends of guests QEMU was asked to start in a step that ran, booted or refused, and hot-plugged ones. */
  const started: (string | number)[][] = [];
  if (isSeq(steps)) {
    steps.items.forEach((st, i) => {
      if (!isMap(st) || !ran(i)) return;
      const boot = st.get('boot');
      for (const g of isSeq(boot) ? boot.items : [boot])
        if (isScalar(g) || typeof g === 'string') booted.add(String(isScalar(g) ? g.value : g));
      const start = st.get('expect-start-failure');
      if (isMap(start)) refused.add(String(start.get('guest')));
      const hotplug = st.get('hotplug');
      if (!isMap(hotplug)) return;
      if (hotplug.has('error')) refused.add(String(hotplug.get('guest')));
      backends.push(['steps', i, 'hotplug', 'backend']);
      started.push(['steps', i, 'hotplug', 'backend']);
      if (hotplug.has('label-size')) labelled.push(['steps', i, 'hotplug']);
    });
  }
  const guests = base.get('guests');
  if (isMap(guests)) {
    for (const pair of guests.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      for (const key of ['nvdimms', 'virtio-pmem', 'cxl']) {
        const devices = base.getIn(['guests', name, key]);
        if (!isSeq(devices)) continue;
        devices.items.forEach((n, i) => {
          // A CXL device has two backends: its memory and its label storage area.
          for (const b of key === 'cxl' ? ['backend', 'lsa'] : ['backend']) {
            if (booted.has(name)) backends.push(['guests', name, key, i, b]);
            if (booted.has(name) || refused.has(name)) started.push(['guests', name, key, i, b]);
          }
          if (isMap(n) && n.has('label-size')) labelled.push(['guests', name, key, i]);
        });
      }
    }
  }
  for (const path of backends) {
    const share = base.getIn([...path, 'share']);
    // Unset, share is on, except for RAM backends (as the schema reads it).
    const on = share === undefined ? base.getIn([...path, 'ram']) === undefined : share === true || share === 'on';
    changed(`${where(path)}.share: ${on ? 'on -> off' : 'off -> on'}`, (doc) => doc.setIn([...path, 'share'], on ? 'off' : 'on'));
  }
  // Read-only and unarmed: flipped wherever the scenario sets them; a machine's persistence domain dropped.
  const flags: [(string | number)[], string][] = [];
  for (const path of backends.filter((b) => b[0] === 'guests')) {
    if (base.getIn([...path, 'readonly']) !== undefined) flags.push([path, 'readonly']);
    if (base.getIn([...path.slice(0, -1), 'unarmed']) !== undefined) flags.push([path.slice(0, -1), 'unarmed']);
  }
  for (const [path, key] of flags) {
    const value = base.getIn([...path, key]);
    const on = value === true || value === 'on';
    changed(`${where(path)}.${key}: ${on ? 'on -> off' : 'off -> on'}`, (doc) => doc.setIn([...path, key], on ? 'off' : 'on'));
  }
  // A file backend's own options each dropped: what they change (an offset, a refusal, a warning) must show.
  for (const path of started)
    for (const key of ['align', 'offset', 'pmem'])
      if (base.getIn([...path, key]) !== undefined) changed(`${where(path)}.${key}: dropped`, (doc) => doc.deleteIn([...path, key]));
  // An NVDIMM's NUMA node and uuid dropped: where its region lands and what QEMU answers must show it.
  const startedDevices = new Map(started.filter((p) => p[0] === 'guests').map((p) => [p.slice(0, -1).join('.'), p.slice(0, -1)]));
  for (const path of startedDevices.values())
    for (const key of ['node', 'uuid'])
      if (base.getIn([...path, key]) !== undefined) changed(`${where(path)}.${key}: dropped`, (doc) => doc.deleteIn([...path, key]));
  for (const name of booted) {
    const machine = ['guests', name, 'machine'];
    if (base.getIn([...machine, 'nvdimm-persistence']) !== undefined)
      changed(`${where(machine)}.nvdimm-persistence: dropped`, (doc) => doc.deleteIn([...machine, 'nvdimm-persistence']));
  }
  for (const path of labelled) {
    changed(`${where(path)}.label-size: dropped`, (doc) => doc.deleteIn([...path, 'label-size']));
    changed(`${where(path)}.label-size: doubled`, (doc) => {
      const size = String(base.getIn([...path, 'label-size']));
      doc.setIn([...path, 'label-size'], `${size} + ${size}`);
    });
  }
  // One mutant per refused guest, both limits at once: a refusal about either must go away.
  for (const name of refused) {
    const memory = ['guests', name, 'memory'];
    const slots = base.getIn([...memory, 'slots']);
    const maxmem = base.getIn([...memory, 'maxmem']);
    if (typeof slots !== 'number' && maxmem === undefined) continue;
    changed(`${where(memory)}: slots and maxmem raised`, (doc) => {
      if (typeof slots === 'number') doc.setIn([...memory, 'slots'], slots + 4);
      if (maxmem !== undefined) doc.setIn([...memory, 'maxmem'], `${String(maxmem)} + 4G`);
    });
  }
  return mutants;
}

/** A place in the scenario as reports name it: `steps.1.hotplug` is `step 2.hotplug`. */
function where(path: (string | number)[]): string {
  return path[0] === 'steps' ? `step ${Number(path[1]) + 1}.${path.slice(2).join('.')}` : path.join('.');
}

/** Runs a configuration mutant: killed if any step fails, survived if every step passes. */
export async function runConfigurationMutant(
  mutantText: string,
  file: string,
  id: string,
  env: Environment,
  artifacts: string,
): Promise<MutantResult> {
  let loaded: LoadedScenario;
  try {
    loaded = parseScenario(mutantText, file);
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    return { id, kind: 'configuration', outcome: 'refused by the loader', detail: e.issues[0]?.message };
  }
  const failed = (await runAllSteps(loaded, env, artifacts)).find((r) => r.status === 'failed');
  return { id, kind: 'configuration', outcome: failed ? 'killed' : 'survived', detail: failed?.error?.message.split('\n')[0] };
}
