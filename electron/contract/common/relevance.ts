// How a result's score reads to people, and which results a cut-off keeps. The engine filters and
// the UI hides with the same rule on the same rounding, so a card showing "50%" is kept by a 50 %
// cut-off everywhere (a raw 0.496 would otherwise show as 50 % and still be cut).

/** A score in [0, 1] as the whole percent the UI shows. */
export function relevancePercent(score: number): number {
  return Math.round(score * 100);
}

/** A score as people read it, in the app and in the terminal alike: "49%". */
export function formatRelevance(score: number): string {
  return `${relevancePercent(score)}%`;
}

/** Whether a result with `score` is kept by `cutoff`: compared as the percentages people see. */
export function meetsCutoff(score: number, cutoff: number): boolean {
  return relevancePercent(score) >= relevancePercent(cutoff);
}
