import { entryAt, type Summary } from './summary.js';

/**
 * Since last night: what changed between two summaries of the matrix. Times change from night to night
 * on shared runners, so a time counts as changed only beyond both a relative and an absolute margin.
 */

export interface Noise {
  /** Relative change below which a time is noise, as a fraction (0.25: 25 %). */
  fraction: number;
  /** Absolute changes below these many seconds are noise too. */
  durationSeconds: number;
  bootSeconds: number;
}

export const DEFAULT_NOISE: Noise = { fraction: 0.25, durationSeconds: 5, bootSeconds: 1 };

export interface Place {
  scenario: string;
  column: string;
}

export interface TimeChange extends Place {
  before: number;
  after: number;
}

export interface Changes {
  /** When the previous summary was made. */
  since: string;
  /** Passed then, fails now. */
  regressions: Place[];
  /** Failed then, passes now. */
  fixes: Place[];
  newScenarios: string[];
  removedScenarios: string[];
  /** Scenario run times that changed beyond the noise, largest change first. */
  durations: TimeChange[];
  /** Mean guest boot times that changed beyond the noise, largest change first. */
  boots: TimeChange[];
}

export function compare(previous: Summary, current: Summary, noise: Noise = DEFAULT_NOISE): Changes {
  const before = entryAt(previous);
  const files = (s: Summary) => new Set(s.scenarios.map((x) => x.file));
  const was = files(previous);
  const is = files(current);
  const changes: Changes = {
    since: previous.generatedAt,
    regressions: [],
    fixes: [],
    newScenarios: [...is].filter((f) => !was.has(f)),
    removedScenarios: [...was].filter((f) => !is.has(f)),
    durations: [],
    boots: [],
  };
  for (const now of current.entries) {
    const then = before(now.scenario, now.column);
    if (!then) continue;
    const place = { scenario: now.scenario, column: now.column };
    if (then.status === 'passed' && now.status === 'failed') changes.regressions.push(place);
    if (then.status === 'failed' && now.status === 'passed') changes.fixes.push(place);
    // A time of a run that stopped early, or of one that did not run, says nothing of speed.
    if (then.status !== 'passed' || now.status !== 'passed') continue;
    if (beyond(then.seconds, now.seconds, noise.fraction, noise.durationSeconds))
      changes.durations.push({ ...place, before: then.seconds, after: now.seconds });
    if (
      then.bootSeconds !== undefined &&
      now.bootSeconds !== undefined &&
      beyond(then.bootSeconds, now.bootSeconds, noise.fraction, noise.bootSeconds)
    )
      changes.boots.push({ ...place, before: then.bootSeconds, after: now.bootSeconds });
  }
  const bySize = (a: TimeChange, b: TimeChange) => Math.abs(b.after - b.before) - Math.abs(a.after - a.before);
  changes.durations.sort(bySize);
  changes.boots.sort(bySize);
  return changes;
}

function beyond(before: number, after: number, fraction: number, seconds: number): boolean {
  const change = Math.abs(after - before);
  return change > seconds && change > fraction * before;
}

/** Whether anything at all changed. */
export function anyChange(c: Changes): boolean {
  return [c.regressions, c.fixes, c.newScenarios, c.removedScenarios, c.durations, c.boots].some((l) => l.length > 0);
}
