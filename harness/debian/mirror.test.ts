import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SETTINGS } from '../settings.js';
import { debianMirror, hostAptUris, parseAptSources } from './mirror.js';

const MIRROR_ENV = SETTINGS.mirror.env;

describe('parseAptSources (deb822 .sources)', () => {
  it('reads URIs: fields, skipping comments and other fields', () => {
    const text = [
      '# Debian bookworm',
      'Types: deb deb-src',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      '# URIs: http://commented.example/debian',
      'Types: deb',
      'URIs: http://mirror.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
    ].join('\n');
    expect(parseAptSources(text, true)).toEqual(['http://mirror.example/debian', 'http://mirror.example/debian-security']);
  });

  it('reads several URIs in one field, any case, https too, and drops non-http ones', () => {
    const text = 'types: deb\nuris: https://mirror.a/debian http://mirror.b/debian/ file:/srv/repo cdrom:/x\nsuites: bookworm\n';
    expect(parseAptSources(text, true)).toEqual(['https://mirror.a/debian', 'http://mirror.b/debian/']);
  });

  it('does not read one-line entries as deb822', () => {
    expect(parseAptSources('deb http://mirror.example/debian bookworm main\n', true)).toEqual([]);
  });
});

describe('parseAptSources (one-line sources.list)', () => {
  it('reads deb lines, with or without [options], skipping deb-src and comments', () => {
    const text = [
      '# main archive',
      'deb http://mirror.example/debian bookworm main contrib',
      'deb-src http://mirror.example/debian bookworm main',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg arch=amd64] http://security.example/debian-security bookworm-security main',
      '  deb   [arch=amd64]   https://mirror.example/debian/   bookworm main',
      '#deb http://old.example/debian bullseye main',
      '',
    ].join('\n');
    expect(parseAptSources(text, false)).toEqual([
      'http://mirror.example/debian',
      'http://security.example/debian-security',
      'https://mirror.example/debian/',
    ]);
  });

  it('handles CRLF line ends', () => {
    expect(parseAptSources('deb http://mirror.example/debian bookworm main\r\n', false)).toEqual(['http://mirror.example/debian']);
  });

  it('drops non-http archives', () => {
    expect(parseAptSources('deb file:/srv/repo ./\ndeb cdrom:[Debian]/ bookworm main\n', false)).toEqual([]);
  });
});

describe('debianMirror', () => {
  let aptEtc: string;
  let saved: string | undefined;

  beforeEach(() => {
    aptEtc = mkdtempSync(join(tmpdir(), 'nvdimm-harness-apt-test-'));
    saved = process.env[MIRROR_ENV];
    delete process.env[MIRROR_ENV];
  });
  afterEach(() => {
    rmSync(aptEtc, { recursive: true, force: true });
    if (saved === undefined) delete process.env[MIRROR_ENV];
    else process.env[MIRROR_ENV] = saved;
  });

  it('uses the override, without a trailing slash, even with no apt sources at all', () => {
    process.env[MIRROR_ENV] = 'http://mirror.local:8080/debian//';
    expect(debianMirror(join(aptEtc, 'does-not-exist'))).toBe('http://mirror.local:8080/debian');
  });

  it('takes the first Debian archive of sources.list, then of sources.list.d in name order', () => {
    mkdirSync(join(aptEtc, 'sources.list.d'));
    writeFileSync(join(aptEtc, 'sources.list.d', 'b.sources'), 'Types: deb\nURIs: http://b.example/debian\nSuites: bookworm\n');
    writeFileSync(join(aptEtc, 'sources.list.d', 'a.list'), 'deb http://a.example/debian bookworm main\n');
    writeFileSync(join(aptEtc, 'sources.list.d', 'ignored.txt'), 'deb http://ignored.example/debian bookworm main\n');
    expect(hostAptUris(aptEtc)).toEqual(['http://a.example/debian', 'http://b.example/debian']);
    expect(debianMirror(aptEtc)).toBe('http://a.example/debian');
    writeFileSync(join(aptEtc, 'sources.list'), 'deb http://first.example/debian/ bookworm main\n');
    expect(debianMirror(aptEtc)).toBe('http://first.example/debian');
  });

  it('skips archives that are not Debian (security, other distributions)', () => {
    mkdirSync(join(aptEtc, 'sources.list.d'));
    writeFileSync(
      join(aptEtc, 'sources.list.d', 'debian.sources'),
      'Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n',
    );
    writeFileSync(join(aptEtc, 'sources.list'), 'deb http://ubuntu-mirror.example/ubuntu jammy main\n');
    expect(debianMirror(aptEtc)).toBe('http://mirror.example/debian');
  });

  it('fails with a message naming the variable and what it saw when there is no Debian archive', () => {
    writeFileSync(join(aptEtc, 'sources.list'), 'deb http://ubuntu-mirror.example/ubuntu jammy main\n');
    expect(() => debianMirror(aptEtc)).toThrow(`Set ${MIRROR_ENV}=http://your-mirror/debian`);
    expect(() => debianMirror(aptEtc)).toThrow('saw: http://ubuntu-mirror.example/ubuntu');
    expect(() => debianMirror(aptEtc)).toThrow(`no Debian archive found in ${aptEtc}/sources.list`);
  });

  it('fails the same way with no sources at all', () => {
    expect(() => debianMirror(aptEtc)).toThrow(/saw: nothing\)\. Set NVDIMM_HARNESS_DEBIAN_MIRROR=/);
  });

  it('treats an empty override as unset', () => {
    process.env[MIRROR_ENV] = '';
    writeFileSync(join(aptEtc, 'sources.list'), 'deb http://mirror.example/debian bookworm main\n');
    expect(debianMirror(aptEtc)).toBe('http://mirror.example/debian');
  });
});

describe('the repository', () => {
  it("names no package mirror's host: the mirror comes from the host's apt sources or a setting", async () => {
    const root = join(import.meta.dirname, '../..');
    const { stdout } = await execa('git', ['ls-files'], { cwd: root });
    // Debian's and Ubuntu's archive hosts (deb., ftp.XX., security., archive., ...); package-lock.json names only npm's.
    const host = /\b[a-z0-9.-]+\.(?:debian\.(?:org|net)|ubuntu\.com)\b/i;
    const named = stdout
      .split('\n')
      .filter((f) => f && f !== 'package-lock.json')
      .flatMap((f) => {
        let text: string;
        try {
          text = readFileSync(join(root, f), 'utf8');
        } catch {
          return []; // listed but deleted in the work tree
        }
        return text.split('\n').flatMap((line, i) => (host.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : []));
      });
    expect(named).toEqual([]);
  });
});
