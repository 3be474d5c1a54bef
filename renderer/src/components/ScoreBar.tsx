// Relevance as a probability: a short bar and the percentage, so "how sure" is visible at a glance.
import { formatPercent } from '../lib/format.ts';

export function ScoreBar({ score }: { score: number }) {
  const level = score >= 0.66 ? 'high' : score >= 0.33 ? 'mid' : 'low';
  return (
    <span className={`score score--${level}`} title={`Relevance ${formatPercent(score)}`}>
      <span className="score__track" aria-hidden="true">
        <span className="score__fill" style={{ width: `${Math.round(score * 100)}%` }} />
      </span>
      <span className="score__value">{formatPercent(score)}</span>
    </span>
  );
}
