// Where the models run, in one plain line, with what stands behind it (the hardware probe, the
// execution provider, the speed estimate, the runtime's own account) behind a disclosure.
import type { CatalogModel, Hardware } from '#contract/common/model-setup.ts';
import { hardwareDetails, hardwareLine } from '../lib/model-fit.ts';
import { Icon } from './Icon.tsx';

export function HardwareLine({ hardware, model, providerDetails = null }: { hardware: Hardware; model: CatalogModel | null; providerDetails?: string | null }) {
  const rows = hardwareDetails(hardware, model);
  return (
    <div className="hardware">
      <p className="hardware-line" data-testid="hardware-line">
        <Icon name="chip" /> {hardwareLine(hardware, model)}
      </p>
      <details className="hardware-details" data-testid="hardware-details">
        <summary>Details</summary>
        <dl className="hardware-details__list">
          {rows.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
          {providerDetails && (
            <div>
              <dt>What the runtime tried</dt>
              <dd className="hardware-details__runtime">{providerDetails}</dd>
            </div>
          )}
        </dl>
      </details>
    </div>
  );
}
