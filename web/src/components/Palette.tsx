// The component palette, filled from `GET /api/components`. Drag an item onto the canvas, or
// focus it and press Enter to drop it in the middle of the view.
import { useState, type DragEvent } from 'react';
import type { ComponentDescriptor } from '../api/types';
import { DND_MIME } from './Canvas';
import { capabilitiesOf, roleIcon, roleOf } from '../lib/capabilities';

interface PaletteProps {
  components: ComponentDescriptor[];
  onAdd: (type: string) => void;
  disabled?: boolean;
  error?: string | null;
}

export function Palette({ components, onAdd, disabled, error }: PaletteProps) {
  const [filter, setFilter] = useState('');
  const f = filter.trim().toLowerCase();
  const shown = components.filter(
    (c) => !f || c.title.toLowerCase().includes(f) || c.type.includes(f) || c.description.toLowerCase().includes(f),
  );

  const onDragStart = (e: DragEvent, type: string) => {
    e.dataTransfer.setData(DND_MIME, type);
    e.dataTransfer.setData('text/plain', type);
    e.dataTransfer.effectAllowed = 'copy';
  };

  return (
    <section className="lf-section lf-palette" aria-label="Components">
      <h2 className="lf-section-title">Components</h2>
      {components.length > 4 && (
        <input className="lf-input lf-palette-filter" type="search" placeholder="Filter components" value={filter} onChange={(e) => setFilter(e.target.value)} aria-label="Filter components" />
      )}
      {error && <p className="lf-note lf-note--error">{error}</p>}
      {!error && components.length === 0 && <p className="lf-note">Loading components…</p>}
      <ul className="lf-palette-list">
        {shown.map((c) => (
          <li key={c.type}>
            <button
              type="button"
              className={`lf-palette-item lf-palette-item--${c.type}`}
              draggable={!disabled}
              disabled={disabled}
              onDragStart={(e) => onDragStart(e, c.type)}
              onClick={() => onAdd(c.type)}
              title={`${c.description}\nDrag onto the canvas, or click to add.`}
              data-testid={`palette-${c.type}`}
            >
              <span className="lf-palette-icon" aria-hidden="true">
                {roleIcon(roleOf(capabilitiesOf(c)))}
              </span>
              <span className="lf-palette-text">
                <span className="lf-palette-title">{c.title}</span>
                <span className="lf-palette-desc">{c.description}</span>
              </span>
              <span className="lf-palette-ports" aria-label={`ports: in ${c.inputs.join(', ') || 'none'}; out ${c.outputs.join(', ')}`}>
                {c.outputs.includes('error') ? '⇢ out · err' : '⇢ out'}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {disabled && components.length > 0 && <p className="lf-note">Open or create a flow to add components.</p>}
    </section>
  );
}
