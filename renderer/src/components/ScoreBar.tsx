// Relevance: a short bar and the percentage people see (the cut-off compares the same number), so
// "how close a match" is visible at a glance.
import { relevancePercent } from '#contract/common/relevance.ts';
import { formatPercent } from '../lib/format.ts';

export function ScoreBar({ score }: { score: number }) {
  const level = score >= 0.66 ? 'high' : score >= 0.33 ? 'mid' : 'low';
  return (
    <span className={`score score--${level}`} title={`Relevance ${formatPercent(score)}`}>
      <span className="score__track" aria-hidden="true">
        <span className="score__fill" style={{ width: `${relevancePercent(score)}%` }} />
      </span>
      <span className="score__value">{formatPercent(score)}</span>
    </span>
  );
}
