import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { cacheDir } from '../cache.js';
import { debianMirror, MIRROR_ENV } from '../debian/mirror.js';
import { findQemu, SUITES } from '../qemu/binary.js';
import { provisionedVersion } from './qemu.js';

interface Finding {
  ok: boolean;
  what: string;
  /** What to do about it, when it is a problem. */
  fix?: string;
}

const onPath = (cmd: string) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, cmd)));

async function examine(): Promise<Finding[]> {
  const findings: Finding[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  findings.push({ ok: major >= 20, what: `Node.js ${process.versions.node}`, fix: 'install Node.js 20 or later' });
  for (const [cmd, pkg] of [
    ['apt-get', 'apt'],
    ['dpkg-deb', 'dpkg'],
    ['xz', 'xz-utils'],
    ['setpriv', 'util-linux'],
  ] as const) {
    findings.push({ ok: onPath(cmd), what: `${cmd} (${pkg})`, fix: `sudo apt-get install ${pkg}` });
  }
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  findings.push({ ok: existsSync(keyring), what: `Debian archive keyring ${keyring}`, fix: 'sudo apt-get install debian-archive-keyring' });

  let mirror: string | undefined;
  try {
    mirror = debianMirror();
  } catch (e) {
    findings.push({ ok: false, what: 'Debian mirror', fix: (e as Error).message });
  }
  if (mirror) {
    const url = `${mirror}/dists/bookworm/InRelease`;
    const reachable = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) }).then(
      (r) => r.ok,
      () => false,
    );
    findings.push({
      ok: reachable,
      what: `Debian mirror ${mirror} ${reachable ? 'answers' : 'does not answer'}`,
      fix: `check the network, or set ${MIRROR_ENV}`,
    });
  }

  const qemu = await findQemu(undefined).catch((e: Error) => e);
  findings.push(
    qemu instanceof Error
      ? { ok: false, what: 'default QEMU', fix: qemu.message }
      : { ok: true, what: `default QEMU ${qemu.version}: ${qemu.origin}` },
  );
  for (const { suite, version } of SUITES) {
    const have = provisionedVersion(suite);
    findings.push({
      ok: true,
      what: `QEMU ${version} (Debian ${suite}): ${have ? `provisioned (${have})` : `not provisioned; nvdimm-harness qemu fetch ${version}`}`,
    });
  }

  let kvm = '/dev/kvm is usable';
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    kvm = '/dev/kvm is missing or not accessible: guests run under TCG';
  }
  const probes = join(cacheDir(), 'kvm-probe');
  const verdicts = existsSync(probes)
    ? readdirSync(probes).map((f) => JSON.parse(readFileSync(join(probes, f), 'utf8')) as { works: boolean; qemu: string })
    : [];
  const seen = new Map(verdicts.map((v) => [v.qemu, v.works]));
  for (const [q, works] of seen) kvm += `\n    probe with ${q}: ${works ? 'KVM boots guests' : 'KVM does not boot guests, TCG is used'}`;
  findings.push({ ok: true, what: `KVM: ${kvm}${verdicts.length ? '' : '; not probed yet (the first run probes it)'}` });

  const images = join(cacheDir(), 'images');
  const built = existsSync(images) ? readdirSync(images).filter((d) => !d.startsWith('.')) : [];
  const mb = (d: string) => Math.round(readdirSync(join(images, d)).reduce((n, f) => n + statSync(join(images, d, f)).size, 0) / 2 ** 20);
  findings.push({
    ok: true,
    what: `image cache ${images}: ${built.length ? built.map((d) => `${d} (${mb(d)} MB)`).join(', ') : 'empty; the first run builds the default image (nvdimm-harness image build)'}`,
  });
  return findings;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check what the harness needs on this machine, and say what to do about each problem')
    .addHelpText('after', '\nExample:\n  $ nvdimm-harness doctor   # exit status 1 when something is missing')
    .action(async () => {
      const findings = await examine();
      for (const f of findings) console.log(`${f.ok ? '✓' : '✗'} ${f.what}${f.ok ? '' : `\n    → ${f.fix}`}`);
      const problems = findings.filter((f) => !f.ok).length;
      console.log(problems ? `\n${problems} problem(s).` : '\nEverything the harness needs is here.');
      process.exitCode = problems ? 1 : 0;
    });
}
