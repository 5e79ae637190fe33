import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import { SETTINGS, setting } from '../settings.js';

/**
 * The Debian mirror to fetch packages from: the override if set, else the first Debian archive URI in the
 * host's apt configuration. Never a hard-coded host: the machine may only reach its own configured mirror.
 */
export function debianMirror(aptEtc = '/etc/apt'): string {
  const override = setting('mirror');
  if (override) return override;
  const uris = hostAptUris(aptEtc);
  const debian = uris.find((u) => /\/debian\/?$/.test(u));
  if (!debian) {
    throw new EnvironmentError(
      `no Debian archive found in ${aptEtc}/sources.list or ${aptEtc}/sources.list.d/ ` +
        `(saw: ${uris.join(', ') || 'nothing'}). Set ${SETTINGS.mirror.env}=http://your-mirror/debian`,
    );
  }
  return debian.replace(/\/+$/, '');
}

/** Every archive URI in deb822 `.sources` files and one-line `sources.list` entries, in apt's order. */
export function hostAptUris(aptEtc: string): string[] {
  const uris: string[] = [];
  const files: string[] = [];
  if (existsSync(join(aptEtc, 'sources.list'))) files.push(join(aptEtc, 'sources.list'));
  const dir = join(aptEtc, 'sources.list.d');
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push(join(dir, f));
    }
  }
  for (const file of files) uris.push(...parseAptSources(readFileSync(file, 'utf8'), file.endsWith('.sources')));
  return uris;
}

export function parseAptSources(text: string, deb822: boolean): string[] {
  const uris: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    if (deb822) {
      const m = /^URIs:\s*(.+)$/i.exec(line);
      if (m) uris.push(...m[1]!.split(/\s+/));
    } else {
      // deb [options] uri suite components
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      if (m) uris.push(m[1]!);
    }
  }
  return uris.filter((u) => /^https?:\/\//.test(u));
}
