import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Command } from 'commander';
import { cacheDir, trustedCacheRoot } from '../cache.js';
import { debianMirror } from '../debian/mirror.js';
import { cachedImages } from '../images/build.js';
import { findQemu, provisionedVersion } from '../qemu/binary.js';
import { ARCH_NAMES } from '../arch.js';
import { cachedVerdicts, kvmDeviceUsable } from '../qemu/kvm.js';
import { QEMU_BUILDS } from '../qemu/versions.js';
import { SETTINGS, setting } from '../settings.js';

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
    ['zstd', 'zstd'],
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
      fix: `check the network, or set ${SETTINGS.mirror.env}`,
    });
  }

  // Nothing is read from a cache someone else could have written.
  try {
    findings.push({ ok: true, what: `cache ${trustedCacheRoot(setting('cache'))}: yours, not writable by others` });
  } catch (e) {
    findings.push({ ok: false, what: 'cache', fix: (e as Error).message });
    return findings;
  }

  const qemu = await findQemu(undefined).catch((e: Error) => e);
  findings.push(
    qemu instanceof Error
      ? { ok: false, what: 'default QEMU', fix: qemu.message }
      : { ok: true, what: `default QEMU ${qemu.version}: ${qemu.origin}` },
  );
  for (const { suite, version } of QEMU_BUILDS) {
    for (const arch of ARCH_NAMES) {
      const have = provisionedVersion(suite, arch);
      const fetch = `nvdimm-harness qemu fetch ${version}${arch === 'amd64' ? '' : ` --arch ${arch}`}`;
      findings.push({
        ok: true,
        what: `QEMU ${version} (Debian ${suite}) for ${arch} guests: ${have ? `provisioned (${have})` : `not provisioned; ${fetch}`}`,
      });
    }
  }

  // One verdict on KVM: what the probe found when there is one, else whether /dev/kvm can be opened.
  const verdicts = cachedVerdicts();
  findings.push({
    ok: true,
    what: !kvmDeviceUsable()
      ? 'KVM: /dev/kvm is missing or not accessible: guests run under TCG'
      : verdicts.length === 0
        ? 'KVM: /dev/kvm opens; not probed yet (the first run boots a probe guest under it)'
        : `KVM: ${[...new Map(verdicts.map((v) => [v.qemu, v.works]))].map(([qemu, works]) => `with ${qemu}: ${works ? 'boots guests' : 'does not boot guests, TCG is used'}`).join('; ')}`,
  });

  const built = cachedImages();
  findings.push({
    ok: true,
    what: `image cache ${cacheDir('images')}: ${built.length ? built.map((d) => `${d.name} (${d.megabytes} MB)`).join(', ') : 'empty; the first run builds the default image (nvdimm-harness image build)'}`,
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
