// Placeholder tiles shaped like the results, so the layout does not jump when they arrive.
export function ResultsSkeleton({ count = 12 }: { count?: number }) {
  return (
    <div className="results-grid" aria-busy="true" aria-label="Searching">
      {Array.from({ length: count }, (_, i) => (
        <div key={i} className="result-card result-card--skeleton">
          <div className="skeleton skeleton--thumb" />
          <div className="skeleton skeleton--line" />
          <div className="skeleton skeleton--line skeleton--short" />
        </div>
      ))}
    </div>
  );
}

export function LinesSkeleton({ lines = 3 }: { lines?: number }) {
  return (
    <div className="lines-skeleton" aria-busy="true">
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className={`skeleton skeleton--line${i === lines - 1 ? ' skeleton--short' : ''}`} />
      ))}
    </div>
  );
}
