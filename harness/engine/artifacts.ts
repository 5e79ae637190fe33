/** The folders a failed scenario's logs are kept in, and how many of them are kept. */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** `<scenario>-<pid>-<epoch ms>`: only folders named so were made by the harness, and only they are pruned. */
const ARTIFACT_FOLDER = /^[A-Za-z0-9._-]+-\d+-(\d{13})$/;

export function artifactFolderName(scenarioBase: string, pid: number, now: number): string {
  return `${scenarioBase}-${pid}-${now}`;
}

/**
 * Removes all but the newest `keep` artifact folders under `root`, by the time in their names; anything else
 * there (a user's own files) is left alone. Returns the folders removed.
 */
export async function pruneArtifacts(root: string, keep: number): Promise<string[]> {
  const entries = await readdir(root).catch(() => [] as string[]);
  const ours: { name: string; at: number }[] = [];
  for (const name of entries) {
    const m = ARTIFACT_FOLDER.exec(name);
    if (m && (await stat(join(root, name)).catch(() => undefined))?.isDirectory()) ours.push({ name, at: Number(m[1]) });
  }
  ours.sort((a, b) => b.at - a.at);
  const old = ours.slice(keep).map((o) => join(root, o.name));
  await Promise.all(old.map((dir) => rm(dir, { recursive: true, force: true })));
  return old;
}
