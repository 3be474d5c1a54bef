// One way to say how far the library is, used by the sidebar, the indexing view, the welcome and
// Settings, so no two places show different numbers for the same thing. The counts are files (not
// the searchable items inside them): indexed (searchable), failed (could not be read), pending.
import type { KindCounts } from '#contract/common/entities.ts';
import { formatCount } from './format.ts';

/**
 * "334 of 354 files indexed, 20 failed, 5 pending": indexed (searchable) out of all files found,
 * then the ones that could not be read and the ones not read yet, each named only when there are some.
 */
export function filesIndexedText(c: KindCounts): string {
  const parts = [`${formatCount(c.indexed)} of ${formatCount(c.total)} ${c.total === 1 ? 'file' : 'files'} indexed`];
  if (c.failed > 0) parts.push(`${formatCount(c.failed)} failed`);
  if (c.pending > 0) parts.push(`${formatCount(c.pending)} pending`);
  return parts.join(', ');
}

/** The share of files done with (indexed or failed): what a progress bar fills. */
export function doneFraction(c: KindCounts): number {
  return c.total === 0 ? 1 : (c.indexed + c.failed) / c.total;
}
