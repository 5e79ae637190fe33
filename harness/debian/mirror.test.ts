import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SETTINGS } from '../settings.js';
import { debianMirror, hostAptUris, parseAptSources } from './mirror.js';

const MIRROR_ENV = SETTINGS.mirror.env;

describe('parseAptSources (deb822 .sources)', () => {
  it('reads URIs: fields, skipping comments and other fields', () => {
    const text = [
      '# Debian bookworm',
      'Types: deb deb-src',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      '# URIs: http://commented.example/debian',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
    ].join('\n');
    expect(parseAptSources(text, true)).toEqual(['http://deb.debian.org/debian', 'http://deb.debian.org/debian-security']);
  });

  it('reads several URIs in one field, any case, https too, and drops non-http ones', () => {
    const text = 'types: deb\nuris: https://mirror.a/debian http://mirror.b/debian/ file:/srv/repo cdrom:/x\nsuites: bookworm\n';
    expect(parseAptSources(text, true)).toEqual(['https://mirror.a/debian', 'http://mirror.b/debian/']);
  });

  it('does not read one-line entries as deb822', () => {
    expect(parseAptSources('deb http://deb.debian.org/debian bookworm main\n', true)).toEqual([]);
  });
});

describe('parseAptSources (one-line sources.list)', () => {
  it('reads deb lines, with or without [options], skipping deb-src and comments', () => {
    const text = [
      '# main archive',
      'deb http://deb.debian.org/debian bookworm main contrib',
      'deb-src http://deb.debian.org/debian bookworm main',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg arch=amd64] http://security.debian.org/debian-security bookworm-security main',
      '  deb   [arch=amd64]   https://mirror.example/debian/   bookworm main',
      '#deb http://old.example/debian bullseye main',
      '',
    ].join('\n');
    expect(parseAptSources(text, false)).toEqual([
      'http://deb.debian.org/debian',
      'http://security.debian.org/debian-security',
      'https://mirror.example/debian/',
    ]);
  });

  it('handles CRLF line ends', () => {
    expect(parseAptSources('deb http://deb.debian.org/debian bookworm main\r\n', false)).toEqual(['http://deb.debian.org/debian']);
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
      'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n',
    );
    writeFileSync(join(aptEtc, 'sources.list'), 'deb http://archive.ubuntu.com/ubuntu jammy main\n');
    expect(debianMirror(aptEtc)).toBe('http://deb.debian.org/debian');
  });

  it('fails with a message naming the variable and what it saw when there is no Debian archive', () => {
    writeFileSync(join(aptEtc, 'sources.list'), 'deb http://archive.ubuntu.com/ubuntu jammy main\n');
    expect(() => debianMirror(aptEtc)).toThrow(`Set ${MIRROR_ENV}=http://your-mirror/debian`);
    expect(() => debianMirror(aptEtc)).toThrow('saw: http://archive.ubuntu.com/ubuntu');
    expect(() => debianMirror(aptEtc)).toThrow(`no Debian archive found in ${aptEtc}/sources.list`);
  });

  it('fails the same way with no sources at all', () => {
    expect(() => debianMirror(aptEtc)).toThrow(/saw: nothing\)\. Set NVDIMM_HARNESS_DEBIAN_MIRROR=/);
  });

  it('treats an empty override as unset', () => {
    process.env[MIRROR_ENV] = '';
    writeFileSync(join(aptEtc, 'sources.list'), 'deb http://deb.debian.org/debian bookworm main\n');
    expect(debianMirror(aptEtc)).toBe('http://deb.debian.org/debian');
  });
});
